import type { Catalog } from '../catalog.ts';
import type { Workflow } from './workflow.ts';

// Ordering and planning over a validated workflow (no cycles, every reference resolves).

/** Ids of the nodes a node reads from, once each, in input order. */
export function dependenciesOf(workflow: Workflow, id: string): string[] {
  const node = workflow.nodes[id];
  if (!node) throw new Error(`unknown node "${id}"`);
  return [...new Set(Object.values(node.inputs).map((r) => r.node))];
}

/** The given nodes and everything reachable from them along `next`. */
function reach(ids: Iterable<string>, next: (id: string) => Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const stack = [...ids];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...next(id));
  }
  return seen;
}

/** The given nodes and everything they read from, transitively. */
export function upstreamOf(workflow: Workflow, ids: Iterable<string>): Set<string> {
  return reach(ids, (id) => dependenciesOf(workflow, id));
}

/** The given nodes and everything that reads from them, transitively (what a change invalidates). */
export function downstreamOf(workflow: Workflow, ids: Iterable<string>): Set<string> {
  const readers = new Map<string, string[]>();
  for (const id of Object.keys(workflow.nodes)) {
    for (const src of dependenciesOf(workflow, id)) {
      const list = readers.get(src);
      if (list) list.push(id);
      else readers.set(src, [id]);
    }
  }
  return reach(ids, (id) => readers.get(id) ?? []);
}

/**
 * Dependency order of the given nodes (all nodes by default): each after the nodes it reads from; ties keep
 * document order, so the order is deterministic. Throws on a cycle.
 */
export function topoOrder(workflow: Workflow, subset?: Iterable<string>): string[] {
  const ids = subset ? new Set(subset) : new Set(Object.keys(workflow.nodes));
  const docOrder = Object.keys(workflow.nodes).filter((id) => ids.has(id));
  const remaining = new Map(docOrder.map((id) => [id, dependenciesOf(workflow, id).filter((d) => ids.has(d))]));
  const done = new Set<string>();
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => deps.every((d) => done.has(d))).map(([id]) => id);
    if (ready.length === 0)
      throw new Error(`cycle among nodes ${[...remaining.keys()].map((n) => `"${n}"`).join(', ')}`);
    for (const id of ready) {
      remaining.delete(id);
      done.add(id);
      order.push(id);
    }
  }
  return order;
}

/** The nodes a run needs, in dependency order: those upstream of the targets, or of every output node by default. */
export function planNodes(workflow: Workflow, catalog: Catalog, targets?: readonly string[]): string[] {
  for (const t of targets ?? []) {
    if (!workflow.nodes[t]) throw new Error(`target node "${t}" does not exist`);
  }
  const roots =
    targets ??
    Object.entries(workflow.nodes)
      .filter(([, node]) => catalog[node.type]?.def.isOutput)
      .map(([id]) => id);
  return topoOrder(workflow, upstreamOf(workflow, roots));
}
