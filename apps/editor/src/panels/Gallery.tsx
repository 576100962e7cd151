import { outputUrl } from '../runtime/api.ts';

// Images the runtime wrote, newest first. Each can be dragged onto the canvas to restore its workflow.

export function Gallery({ files }: { files: readonly string[] }) {
  const images = files.filter((f) => /\.(png|jpe?g|webp)$/i.test(f));
  return (
    <aside className="gallery" data-testid="gallery">
      <h3>Outputs</h3>
      {images.length === 0 && <p className="muted">Images from Save Image appear here.</p>}
      {images.map((name) => (
        <a
          key={name}
          href={outputUrl(name)}
          target="_blank"
          rel="noreferrer"
          className="gallery-item"
          data-testid="gallery-item"
          data-file={name}
          title={name}
        >
          <img src={outputUrl(name)} alt={name} loading="lazy" />
          <span>{name}</span>
        </a>
      ))}
    </aside>
  );
}
