import { useEffect, useLayoutEffect, useRef, useState } from 'react';

// A right-click menu at the pointer, kept inside the canvas (flipped up or left near an edge). Closes on
// Escape, a click elsewhere, or after an item runs.

export interface MenuItem {
  readonly label: string;
  readonly testId: string;
  readonly run: () => void;
  readonly disabled?: boolean;
  /** Colour swatches drawn in one row instead of a text item. */
  readonly swatch?: string;
}

export interface MenuRequest {
  /** Canvas-local pixel position. */
  readonly at: { x: number; y: number };
  readonly title: string;
  readonly items: readonly MenuItem[];
}

export function ContextMenu({ request, onClose }: { request: MenuRequest; onClose(): void }) {
  const ref = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState(request.at);
  useLayoutEffect(() => setPos(clampInParent(ref.current, request.at)), [request.at]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    const onDown = (e: PointerEvent) => !ref.current?.contains(e.target as Node) && onClose();
    window.addEventListener('keydown', onKey);
    window.addEventListener('pointerdown', onDown, true);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('pointerdown', onDown, true);
    };
  }, [onClose]);
  const swatches = request.items.filter((i) => i.swatch);
  const items = request.items.filter((i) => !i.swatch);
  const button = (item: MenuItem) => (
    <button
      type="button"
      role="menuitem"
      key={item.testId}
      data-testid={item.testId}
      disabled={item.disabled}
      {...(item.swatch
        ? { title: item.label, 'aria-label': item.label, className: 'swatch', style: { background: item.swatch } }
        : {})}
      onClick={() => {
        onClose();
        item.run();
      }}
    >
      {item.swatch ? null : item.label}
    </button>
  );
  return (
    <div
      ref={ref}
      className="context-menu"
      role="menu"
      data-testid="context-menu"
      style={{ left: pos.x, top: pos.y }}
      onContextMenu={(e) => e.preventDefault()}
    >
      <div className="context-menu-title">{request.title}</div>
      {items.map(button)}
      {swatches.length > 0 && <div className="context-menu-swatches">{swatches.map(button)}</div>}
    </div>
  );
}

/** Keeps a popup of `el`'s size inside its offset parent: flips above/left of the point when it would spill. */
export function clampInParent(el: HTMLElement | null, at: { x: number; y: number }): { x: number; y: number } {
  const parent = el?.offsetParent as HTMLElement | null;
  if (!el || !parent) return at;
  const w = el.offsetWidth;
  const h = el.offsetHeight;
  const pw = parent.clientWidth;
  const ph = parent.clientHeight;
  const x = at.x + w > pw ? Math.max(4, Math.min(at.x - w, pw - w - 4)) : at.x;
  const y = at.y + h > ph ? Math.max(4, Math.min(at.y - h, ph - h - 4)) : at.y;
  return { x, y };
}
