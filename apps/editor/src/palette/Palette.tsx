import { useMemo, useState } from 'react';
import type { Catalog } from '../catalog/catalog.ts';
import { createSearch, groupByCategory } from './palette-search.ts';

// The node palette: every node type the runtime offers, by category, with fuzzy search. Drag onto the
// canvas, or click to add at the centre of the view.

export const NODE_TYPE_MIME = 'application/x-sdflow-node-type';

export function Palette({ catalog, onAdd }: { catalog: Catalog; onAdd(type: string): void }) {
  const [query, setQuery] = useState('');
  const search = useMemo(() => createSearch(catalog), [catalog]);
  const groups = useMemo(() => groupByCategory(search(query)), [search, query]);
  return (
    <aside className="palette" data-testid="palette">
      <input
        type="search"
        placeholder="Search nodes…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        data-testid="palette-search"
      />
      {catalog.list.length === 0 && <p className="muted">Waiting for the runtime's catalogue…</p>}
      {groups.map(([category, types]) => (
        <section key={category} className="palette-group">
          <h3>{category}</h3>
          {types.map((t) => (
            <button
              type="button"
              key={t.type}
              className={`palette-item sd-cat-${t.category}`}
              draggable
              title={t.description}
              data-testid={`palette-item-${t.type}`}
              onDragStart={(e) => {
                e.dataTransfer.setData(NODE_TYPE_MIME, t.type);
                e.dataTransfer.effectAllowed = 'copy';
              }}
              onDoubleClick={() => onAdd(t.type)}
              onKeyDown={(e) => e.key === 'Enter' && onAdd(t.type)}
            >
              {t.title}
            </button>
          ))}
        </section>
      ))}
    </aside>
  );
}
