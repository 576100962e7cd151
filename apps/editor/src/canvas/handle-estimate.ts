import type { NodeHandle } from '@xyflow/react';
import { Position } from '@xyflow/react';
import type { NodeTypeInfo } from '../catalog/catalog.ts';

// Where a node's port handles will be, from the node view's fixed CSS geometry (styles.css: .sd-node,
// .sd-node-header, .sd-node-ports, .sd-port). Given to React Flow for nodes not rendered yet, so that
// onlyRenderVisibleElements need not render every node once just to measure its handles.

export const NODE_GEOMETRY = {
  width: 260,
  borderTop: 3,
  border: 1,
  header: 30,
  portsPadding: 4,
  row: 18,
  gap: 2,
  handle: 11,
};

export function estimateHandles(info: NodeTypeInfo): NodeHandle[] {
  const g = NODE_GEOMETRY;
  const half = g.handle / 2;
  const rowCentre = (i: number) => g.borderTop + g.header + g.portsPadding + i * (g.row + g.gap) + g.row / 2;
  const handle = (id: string, type: 'source' | 'target', i: number): NodeHandle => ({
    id,
    type,
    position: type === 'target' ? Position.Left : Position.Right,
    x: (type === 'target' ? g.border : g.width - g.border) - half,
    y: rowCentre(i) - half,
    width: g.handle,
    height: g.handle,
  });
  return [
    ...Object.keys(info.inputs).map((id, i) => handle(id, 'target', i)),
    ...Object.keys(info.outputs).map((id, i) => handle(id, 'source', i)),
  ];
}
