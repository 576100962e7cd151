import { useEffect } from 'react';
import { outputUrl } from '../runtime/api.ts';

// An output image large, in the page: arrows step through the gallery, Escape closes, download, open the
// workflow it was made with.

interface Props {
  readonly files: readonly string[];
  readonly index: number;
  onIndex(index: number): void;
  onClose(): void;
  onOpenWorkflow(name: string): void;
}

export function ImageViewer({ files, index, onIndex, onClose, onOpenWorkflow }: Props) {
  const name = files[index];
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
      else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') onIndex(Math.max(0, index - 1));
      else if (e.key === 'ArrowRight' || e.key === 'ArrowDown') onIndex(Math.min(files.length - 1, index + 1));
      else return;
      e.preventDefault();
      e.stopPropagation();
    };
    // Capture: the viewer owns the keyboard while open (Escape must not also reach the canvas shortcuts).
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [files.length, index, onClose, onIndex]);
  if (name === undefined) return null;
  return (
    <div className="viewer-backdrop" data-testid="image-viewer" role="dialog" aria-modal="true" aria-label={name}>
      <figure className="viewer">
        <img src={outputUrl(name)} alt={name} data-testid="viewer-image" data-file={name} />
        <figcaption>
          <button
            type="button"
            data-testid="viewer-prev"
            disabled={index === 0}
            onClick={() => onIndex(index - 1)}
            title="Newer (←)"
          >
            ←
          </button>
          <span className="viewer-name">
            {name}{' '}
            <span className="muted">
              ({index + 1} / {files.length})
            </span>
          </span>
          <button
            type="button"
            data-testid="viewer-next"
            disabled={index >= files.length - 1}
            onClick={() => onIndex(index + 1)}
            title="Older (→)"
          >
            →
          </button>
          <a className="button" href={outputUrl(name)} download={name} data-testid="viewer-download">
            Download
          </a>
          <button type="button" data-testid="viewer-open-workflow" onClick={() => onOpenWorkflow(name)}>
            Open its workflow
          </button>
          <button type="button" data-testid="viewer-close" onClick={onClose} title="Close (Esc)">
            ✕
          </button>
        </figcaption>
      </figure>
    </div>
  );
}
