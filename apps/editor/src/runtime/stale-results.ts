import type { Workflow, WorkflowNode } from '@sdflow/nodes/graph/workflow.ts';

// A run's result (done, cached, failed...) belongs on a node only while the node and everything feeding it
// are as that run had them: after an edit, the old error or timing describes a graph that no longer exists.

/** Ids of nodes of `doc` whose result in `ran` (the workflow the run executed) no longer applies. */
export function staleNodes(doc: Workflow, ran: Workflow | undefined): Set<string> {
  const stale = new Set<string>();
  if (!ran) return stale;
  const memo = new Map<string, boolean>();
  const applies = (id: string, seen: Set<string>): boolean => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return false;
    seen.add(id);
    const now = doc.nodes[id];
    const then = ran.nodes[id];
    const ok =
      now !== undefined &&
      then !== undefined &&
      sameNode(now, then) &&
      Object.values(now.inputs).every((ref) => applies(ref.node, seen));
    memo.set(id, ok);
    return ok;
  };
  for (const id of Object.keys(doc.nodes)) if (!applies(id, new Set())) stale.add(id);
  return stale;
}

function sameNode(a: WorkflowNode, b: WorkflowNode): boolean {
  return a.type === b.type && sameValue(a.params, b.params) && sameValue(a.inputs, b.inputs);
}

/** Deep equality of JSON values, key order ignored. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
