import type { Workflow, WorkflowNode } from '@sdflow/nodes/graph/workflow.ts';
import type { Edge, Node, NodeHandle } from '@xyflow/react';
import type { Selection } from '../document/doc-state.ts';
import { EMPTY_SELECTION, edgeId } from '../document/doc-state.ts';

// Workflow <-> React Flow nodes/edges. Pure; the cached mapper reuses unchanged node objects so that
// memoised node views skip re-rendering on big graphs.

export interface FlowNodeData extends Record<string, unknown> {
  readonly node: WorkflowNode;
  /** The node's colour from the layout (`ui.nodes[id].color`), if any. */
  readonly color?: string;
}
export type FlowNode = Node<FlowNodeData, 'sdflow'>;
export interface FlowEdgeData extends Record<string, unknown> {
  readonly portType?: string;
}
export type FlowEdge = Edge<FlowEdgeData>;

export interface Measured {
  readonly width: number;
  readonly height: number;
}

const GRID = { x: 320, y: 260, perRow: 6 };

/** Where a node without saved layout goes: a grid in insertion order. */
export function fallbackPosition(index: number): { x: number; y: number } {
  return { x: (index % GRID.perRow) * GRID.x, y: Math.floor(index / GRID.perRow) * GRID.y };
}

/** Handle positions for a node not measured yet (see handle-estimate.ts). */
export type HandleEstimate = (node: WorkflowNode) => NodeHandle[] | undefined;

export function toFlowNode(
  id: string,
  node: WorkflowNode,
  index: number,
  workflow: Workflow,
  selected: boolean,
  measured?: Measured,
  estimate?: HandleEstimate,
): FlowNode {
  const ui = workflow.ui?.nodes[id];
  const flow: FlowNode = {
    id,
    type: 'sdflow',
    position: ui ? { x: ui.x, y: ui.y } : fallbackPosition(index),
    data: ui?.color ? { node, color: ui.color } : { node },
    selected,
    // Size guesses for nodes not rendered yet (onlyRenderVisibleElements), so fit view and the minimap see them.
    initialWidth: 260,
    initialHeight: 220,
  };
  if (measured) flow.measured = measured;
  else {
    const handles = estimate?.(node);
    if (handles) flow.handles = handles;
  }
  return flow;
}

export function toFlowEdges(
  workflow: Workflow,
  selection: Selection,
  portType?: (source: string, output: string) => string | undefined,
): FlowEdge[] {
  const selected = new Set(selection.edges);
  const edges: FlowEdge[] = [];
  for (const [target, node] of Object.entries(workflow.nodes)) {
    for (const [input, ref] of Object.entries(node.inputs)) {
      const id = edgeId(target, input);
      const type = portType?.(ref.node, ref.output);
      const edge: FlowEdge = {
        id,
        source: ref.node,
        sourceHandle: ref.output,
        target,
        targetHandle: input,
        selected: selected.has(id),
      };
      if (type) edge.data = { portType: type };
      edges.push(edge);
    }
  }
  return edges;
}

export function workflowToFlow(
  workflow: Workflow,
  selection: Selection = EMPTY_SELECTION,
): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const sel = new Set(selection.nodes);
  const nodes = Object.entries(workflow.nodes).map(([id, node], i) => toFlowNode(id, node, i, workflow, sel.has(id)));
  return { nodes, edges: toFlowEdges(workflow, selection) };
}

/** The inverse: nodes carry their workflow node and position, edges carry the input they feed. */
export function flowToWorkflow(
  nodes: readonly FlowNode[],
  edges: readonly FlowEdge[],
  base: Pick<Workflow, 'meta' | 'ui'> = { meta: {} },
): Workflow {
  const wfNodes: Record<string, WorkflowNode> = {};
  const uiNodes: Record<string, NonNullable<Workflow['ui']>['nodes'][string]> = {};
  for (const n of nodes) {
    wfNodes[n.id] = { ...n.data.node, inputs: {} };
    uiNodes[n.id] = { ...(base.ui?.nodes[n.id] ?? {}), x: n.position.x, y: n.position.y };
  }
  for (const e of edges) {
    const target = wfNodes[e.target];
    if (!target || !e.targetHandle || !e.sourceHandle) continue;
    target.inputs[e.targetHandle] = { node: e.source, output: e.sourceHandle };
  }
  const ui = { groups: [], notes: [], ...(base.ui ?? {}), nodes: uiNodes };
  return { version: 1, meta: base.meta, nodes: wfNodes, ui };
}

interface CacheEntry {
  readonly node: WorkflowNode;
  readonly x: number | undefined;
  readonly y: number | undefined;
  readonly color: string | undefined;
  readonly selected: boolean;
  readonly measured: Measured | undefined;
  readonly index: number;
  readonly flow: FlowNode;
}

/** A workflowToFlow that returns the previous FlowNode object for every node whose inputs did not change. */
export function createFlowMapper() {
  let cache = new Map<string, CacheEntry>();
  let lastEstimate: HandleEstimate | undefined;
  return (
    workflow: Workflow,
    selection: Selection,
    measured: ReadonlyMap<string, Measured>,
    estimate?: HandleEstimate,
  ): FlowNode[] => {
    if (estimate !== lastEstimate) cache = new Map();
    lastEstimate = estimate;
    const sel = new Set(selection.nodes);
    const next = new Map<string, CacheEntry>();
    const out: FlowNode[] = [];
    let i = 0;
    for (const [id, node] of Object.entries(workflow.nodes)) {
      const ui = workflow.ui?.nodes[id];
      const m = measured.get(id);
      const s = sel.has(id);
      const prev = cache.get(id);
      const hit =
        prev &&
        prev.node === node &&
        prev.x === ui?.x &&
        prev.y === ui?.y &&
        prev.color === ui?.color &&
        prev.selected === s &&
        prev.measured === m &&
        (ui || prev.index === i);
      const entry: CacheEntry = hit
        ? prev
        : {
            node,
            x: ui?.x,
            y: ui?.y,
            color: ui?.color,
            selected: s,
            measured: m,
            index: i,
            flow: toFlowNode(id, node, i, workflow, s, m, estimate),
          };
      next.set(id, entry);
      out.push(entry.flow);
      i++;
    }
    cache = next;
    return out;
  };
}
