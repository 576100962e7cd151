import { UiNode, type Workflow, WorkflowNode } from '@sdflow/nodes/graph/workflow.ts';
import { z } from 'zod';
import { nextNodeId } from './ids.ts';

// What copy puts on the clipboard: the selected nodes with the edges between them, and their layout.

export const Clip = z.object({
  kind: z.literal('sdflow/nodes'),
  nodes: z.record(z.string(), WorkflowNode),
  ui: z.record(z.string(), UiNode),
});
export type Clip = z.infer<typeof Clip>;

export function copyNodes(workflow: Workflow, ids: readonly string[]): Clip {
  const keep = new Set(ids.filter((id) => workflow.nodes[id]));
  const nodes: Clip['nodes'] = {};
  const ui: Clip['ui'] = {};
  for (const id of keep) {
    const node = workflow.nodes[id]!;
    const inputs = Object.fromEntries(Object.entries(node.inputs).filter(([, ref]) => keep.has(ref.node)));
    nodes[id] = structuredClone({ ...node, inputs });
    ui[id] = { ...(workflow.ui?.nodes[id] ?? { x: 0, y: 0 }) };
  }
  return { kind: 'sdflow/nodes', nodes, ui };
}

/** Renames the clip's nodes to fresh ids for `workflow`, shifting them by `offset`; returns the renamed clip. */
export function renameClip(workflow: Workflow, clip: Clip, offset: { x: number; y: number }): Clip {
  const rename = new Map<string, string>();
  const taken = new Set<string>();
  for (const [id, node] of Object.entries(clip.nodes)) {
    const fresh = nextNodeId(Object.keys(workflow.nodes), node.type, taken);
    taken.add(fresh);
    rename.set(id, fresh);
  }
  const nodes: Clip['nodes'] = {};
  const ui: Clip['ui'] = {};
  for (const [id, node] of Object.entries(clip.nodes)) {
    const fresh = rename.get(id)!;
    const inputs: WorkflowNode['inputs'] = {};
    for (const [port, ref] of Object.entries(node.inputs)) {
      const src = rename.get(ref.node);
      if (src) inputs[port] = { node: src, output: ref.output };
    }
    nodes[fresh] = structuredClone({ ...node, inputs });
    const pos = clip.ui[id] ?? { x: 0, y: 0 };
    ui[fresh] = { ...pos, x: pos.x + offset.x, y: pos.y + offset.y };
  }
  return { kind: 'sdflow/nodes', nodes, ui };
}
