import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { clampInParent } from '../canvas/ContextMenu.tsx';
import type { Catalog } from '../catalog/catalog.ts';
import { createSearch, type PortFilter } from './palette-search.ts';

// The quick-add popup: opened by double-clicking the canvas or dropping a dangling edge (then it lists
// only node types with a compatible port).

export interface NodeSearchRequest {
  readonly screen: { x: number; y: number };
  readonly flow: { x: number; y: number };
  readonly filter?: PortFilter;
  /** The dangling edge's end, connected to the new node's compatible port. */
  readonly from?: { node: string; port: string; side: 'source' | 'target' };
  /** Node types to offer only (e.g. those that fit into an edge). */
  readonly only?: (type: string) => boolean;
  readonly placeholder?: string;
  /** The edge (its id) the picked node goes into. */
  readonly insert?: string;
}

export function NodeSearch({
  catalog,
  request,
  onPick,
  onClose,
}: {
  catalog: Catalog;
  request: NodeSearchRequest;
  onPick(type: string): void;
  onClose(): void;
}) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const search = useMemo(() => createSearch(catalog), [catalog]);
  const results = useMemo(
    () => search(query, request.filter).filter((t) => request.only?.(t.type) ?? true),
    [search, query, request],
  );
  const input = useRef<HTMLInputElement>(null);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => input.current?.focus(), []);
  // Opened near the bottom or right edge, the popup flips so that it stays whole inside the canvas.
  const [pos, setPos] = useState(request.screen);
  useLayoutEffect(() => setPos(clampInParent(box.current, request.screen)), [request.screen]);
  return (
    <div
      ref={box}
      className="node-search"
      style={{ left: pos.x, top: pos.y }}
      data-testid="node-search"
      onPointerDown={(e) => e.stopPropagation()}
    >
      <input
        ref={input}
        className="node-search-input"
        placeholder={
          request.placeholder ??
          (request.filter ? `Nodes with a ${request.filter.type} ${request.filter.side}…` : 'Add node…')
        }
        value={query}
        data-testid="node-search-input"
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
          else if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, results.length - 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
          else if (e.key === 'Enter' && results[active]) onPick(results[active].type);
          else return;
          e.preventDefault();
        }}
        onBlur={() => setTimeout(onClose, 150)}
      />
      <ul>
        {results.map((t, i) => (
          <li key={t.type} className={i === active ? 'active' : ''}>
            <button
              type="button"
              data-testid={`node-search-item-${t.type}`}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => onPick(t.type)}
            >
              <b>{t.title}</b> <span className="muted">{t.category}</span>
            </button>
          </li>
        ))}
        {results.length === 0 && <li className="muted">No matching node type</li>}
      </ul>
    </div>
  );
}
