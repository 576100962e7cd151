import { outputUrl } from '../runtime/api.ts';

// Images the runtime wrote, newest first, each once. A click opens the viewer; dragging one onto the canvas
// restores its workflow.

export const OUTPUT_MIME = 'application/x-sdflow-output';

export function isImage(name: string): boolean {
  return /\.(png|jpe?g|webp)$/i.test(name);
}

export function Gallery({ files, onOpen }: { files: readonly string[]; onOpen(name: string): void }) {
  const images = files.filter(isImage);
  return (
    <div className="gallery" data-testid="gallery">
      {images.length === 0 && <p className="muted">Images from Save Image appear here.</p>}
      {images.map((name) => (
        <button
          type="button"
          key={name}
          className="gallery-item"
          data-testid="gallery-item"
          data-file={name}
          title={`${name} — click to view, drag onto the canvas to open its workflow`}
          draggable
          onDragStart={(e) => {
            e.dataTransfer.setData(OUTPUT_MIME, name);
            e.dataTransfer.effectAllowed = 'copy';
          }}
          onClick={() => onOpen(name)}
        >
          <img src={outputUrl(name)} alt={name} loading="lazy" draggable={false} />
          <span>{name}</span>
        </button>
      ))}
    </div>
  );
}
