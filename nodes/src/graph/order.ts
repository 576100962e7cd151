import type { Catalog } from '../catalog.ts';
import type { Workflow } from './workflow.ts';

// Ordering and planning over a validated workflow (no cycles, every reference resolves).

/** Ids of the nodes a node reads from, once each, in input order. */
export function dependenciesOf(workflow: Workflow, id: string): string[] {
  const node = Object.hasOwn(workflow.nodes, id) ? workflow.nodes[id] : undefined;
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
 * document order, so the order is deterministic. Throws on a cycle. Linear in nodes and edges (a wave at a time:
 * every node whose inputs are done, in document order), so a 20,000-node chain plans in milliseconds.
 */
export function topoOrder(workflow: Workflow, subset?: Iterable<string>): string[] {
  const ids = subset ? new Set(subset) : new Set(Object.keys(workflow.nodes));
  const docOrder = Object.keys(workflow.nodes).filter((id) => ids.has(id));
  const position = new Map(docOrder.map((id, i) => [id, i]));
  const waiting = new Map<string, number>();
  const readers = new Map<string, string[]>();
  for (const id of docOrder) {
    const deps = dependenciesOf(workflow, id).filter((d) => position.has(d));
    waiting.set(id, deps.length);
    for (const d of deps) {
      const list = readers.get(d);
      if (list) list.push(id);
      else readers.set(d, [id]);
    }
  }
  const order: string[] = [];
  let wave = docOrder.filter((id) => waiting.get(id) === 0);
  while (wave.length > 0) {
    const next: string[] = [];
    for (const id of wave) {
      order.push(id);
      for (const r of readers.get(id) ?? []) {
        const left = waiting.get(r)! - 1;
        waiting.set(r, left);
        if (left === 0) next.push(r);
      }
    }
    wave = next.sort((a, b) => position.get(a)! - position.get(b)!);
  }
  if (order.length < docOrder.length) {
    const stuck = docOrder.filter((id) => waiting.get(id)! > 0);
    throw new Error(`cycle among nodes ${stuck.map((n) => `"${n}"`).join(', ')}`);
  }
  return order;
}

/** The nodes a run needs, in dependency order: those upstream of the targets, or of every output node by default. */
export function planNodes(workflow: Workflow, catalog: Catalog, targets?: readonly string[]): string[] {
  for (const t of targets ?? []) {
    if (!Object.hasOwn(workflow.nodes, t)) throw new Error(`target node "${t}" does not exist`);
  }
  const roots =
    targets ??
    Object.entries(workflow.nodes)
      .filter(([, node]) => Object.hasOwn(catalog, node.type) && catalog[node.type]?.def.isOutput)
      .map(([id]) => id);
  return topoOrder(workflow, upstreamOf(workflow, roots));
}
