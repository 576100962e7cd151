import Fuse from 'fuse.js';
import type { Catalog, NodeTypeInfo } from '../catalog/catalog.ts';

// Fuzzy search over the catalogue, optionally limited to node types that can take or give a port type.

export interface PortFilter {
  /** 'input': the node must have an input of `type` (a dangling output edge was dropped); 'output': the reverse. */
  readonly side: 'input' | 'output';
  readonly type: string;
}

export function compatiblePort(info: NodeTypeInfo, filter: PortFilter): string | undefined {
  const ports = filter.side === 'input' ? info.inputs : info.outputs;
  return Object.entries(ports).find(([, p]) => p.type === filter.type)?.[0];
}

export function createSearch(catalog: Catalog) {
  const fuse = new Fuse(catalog.list as NodeTypeInfo[], {
    keys: [
      { name: 'title', weight: 3 },
      { name: 'type', weight: 2 },
      { name: 'category', weight: 1 },
      { name: 'description', weight: 0.5 },
    ],
    threshold: 0.35,
    ignoreLocation: true,
  });
  return (query: string, filter?: PortFilter): NodeTypeInfo[] => {
    const q = query.trim().toLowerCase();
    // Names first: when the text appears in a title or id, only those match (a title starting with it, then a
    // word starting with it, first); fuzzy matching is for typos, when nothing contains the text.
    const named = q ? catalog.list.filter((t) => nameRank(t, q) < 3) : [];
    const hits = !q
      ? [...catalog.list]
      : named.length
        ? named.sort((a, b) => nameRank(a, q) - nameRank(b, q))
        : fuse.search(q).map((r) => r.item);
    return filter ? hits.filter((t) => compatiblePort(t, filter) !== undefined) : hits;
  };
}

function nameRank(t: NodeTypeInfo, q: string): number {
  const title = t.title.toLowerCase();
  if (title.startsWith(q) || t.type.toLowerCase().startsWith(q)) return 0;
  if (title.split(/\s+/).some((w) => w.startsWith(q))) return 1;
  if (title.includes(q) || t.type.toLowerCase().includes(q)) return 2;
  return 3;
}

/** Node types by category, categories in first-seen order. */
export function groupByCategory(types: readonly NodeTypeInfo[]): [string, NodeTypeInfo[]][] {
  const groups = new Map<string, NodeTypeInfo[]>();
  for (const t of types) groups.set(t.category, [...(groups.get(t.category) ?? []), t]);
  return [...groups];
}
