import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { Catalog } from '../catalog/catalog.ts';

// Whether an edge may be drawn, with the reason when not: used while dragging and again by the reducer.

export interface ConnectionRequest {
  readonly source: string;
  readonly output: string;
  readonly target: string;
  readonly input: string;
}

export type ConnectionVerdict = { ok: true } | { ok: false; reason: string };

export function checkConnection(workflow: Workflow, catalog: Catalog, c: ConnectionRequest): ConnectionVerdict {
  const from = workflow.nodes[c.source];
  const to = workflow.nodes[c.target];
  if (!from) return { ok: false, reason: `node ${c.source} does not exist` };
  if (!to) return { ok: false, reason: `node ${c.target} does not exist` };
  if (c.source === c.target) return { ok: false, reason: `node ${c.source} cannot feed itself` };
  const out = catalog.byType.get(from.type)?.outputs[c.output];
  const inp = catalog.byType.get(to.type)?.inputs[c.input];
  if (!out) return { ok: false, reason: `${from.type} (${c.source}) has no output "${c.output}"` };
  if (!inp) return { ok: false, reason: `${to.type} (${c.target}) has no input "${c.input}"` };
  if (out.type !== inp.type) {
    return { ok: false, reason: `cannot connect ${out.type} to ${inp.type}: ${c.target}.${c.input} takes ${inp.type}` };
  }
  if (reaches(workflow, c.target, c.source)) {
    return { ok: false, reason: `connecting ${c.source} to ${c.target} would make a cycle` };
  }
  return { ok: true };
}

/** Whether `to` is upstream-reachable from `from` following outputs (i.e. `from` feeds `to`). */
function reaches(workflow: Workflow, from: string, to: string): boolean {
  const consumers = new Map<string, string[]>();
  for (const [id, node] of Object.entries(workflow.nodes)) {
    for (const ref of Object.values(node.inputs)) {
      const list = consumers.get(ref.node) ?? [];
      list.push(id);
      consumers.set(ref.node, list);
    }
  }
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(consumers.get(id) ?? []));
  }
  return false;
}
