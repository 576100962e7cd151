import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { Position } from '@xyflow/react';
import { describe, expect, it } from 'vitest';
import { createFlowMapper, flowToWorkflow, workflowToFlow } from './flow-mapping.ts';

const base: Workflow = {
  version: 1,
  meta: { name: 'base' },
  nodes: {
    model: { type: 'loadModel', typeVersion: 1, params: { model: 'default' }, inputs: {} },
    pos: {
      type: 'encodePrompt',
      params: { prompt: 'a cat' },
      inputs: { clip: { node: 'model', output: 'clip' } },
      title: 'Positive',
    },
    lat: {
      type: 'emptyLatent',
      params: { width: 64, height: 64, seed: 3 },
      inputs: { vae: { node: 'model', output: 'vae' } },
    },
    den: {
      type: 'unetDenoise',
      params: { steps: 2 },
      inputs: {
        unet: { node: 'model', output: 'unet' },
        conditioning: { node: 'pos', output: 'conditioning' },
        latent: { node: 'lat', output: 'latent' },
      },
    },
  },
  ui: {
    nodes: {
      model: { x: 0, y: 0 },
      pos: { x: 300, y: 0, collapsed: true },
      lat: { x: 300, y: 200 },
      den: { x: 600, y: 100 },
    },
    groups: [],
    notes: [{ id: 'n1', text: 'hello', x: 5, y: 5 }],
  },
};

describe('workflow <-> flow mapping', () => {
  it('round-trips to an equal workflow', () => {
    const { nodes, edges } = workflowToFlow(base);
    expect(flowToWorkflow(nodes, edges, base)).toEqual(base);
  });

  it('makes one edge per connected input, keyed by the input, with handles named after ports', () => {
    const { edges } = workflowToFlow(base);
    expect(edges).toHaveLength(5);
    expect(edges.find((e) => e.id === 'den:conditioning')).toMatchObject({
      source: 'pos',
      sourceHandle: 'conditioning',
      target: 'den',
      targetHandle: 'conditioning',
    });
  });

  it('marks selected nodes and edges', () => {
    const { nodes, edges } = workflowToFlow(base, { nodes: ['pos'], edges: ['den:latent'] });
    expect(nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(['pos']);
    expect(edges.filter((e) => e.selected).map((e) => e.id)).toEqual(['den:latent']);
  });

  it('lays out nodes without saved positions on a grid', () => {
    const { ui: _ui, ...noUi } = base;
    const { nodes } = workflowToFlow(noUi);
    expect(new Set(nodes.map((n) => `${n.position.x},${n.position.y}`)).size).toBe(4);
  });

  it('the cached mapper reuses unchanged node objects', () => {
    const map = createFlowMapper();
    const sel = { nodes: [], edges: [] };
    const a = map(base, sel, new Map());
    const moved: Workflow = { ...base, ui: { ...base.ui!, nodes: { ...base.ui!.nodes, lat: { x: 1, y: 2 } } } };
    const b = map(moved, sel, new Map());
    expect(b.filter((n, i) => n === a[i]).map((n) => n.id)).toEqual(['model', 'pos', 'den']);
    expect(b[2]?.position).toEqual({ x: 1, y: 2 });
  });
});

describe('handle estimates', () => {
  it('unmeasured nodes carry estimated handles; measured ones leave handles to React Flow', () => {
    const map = createFlowMapper();
    const estimate = () => [
      { id: 'clip', type: 'target' as const, position: Position.Left, x: 0, y: 40, width: 11, height: 11 },
    ];
    const nodes = map(base, { nodes: [], edges: [] }, new Map([['pos', { width: 260, height: 200 }]]), estimate);
    expect(nodes.find((n) => n.id === 'model')?.handles).toHaveLength(1);
    expect(nodes.find((n) => n.id === 'pos')?.handles).toBeUndefined();
    expect(nodes.find((n) => n.id === 'pos')?.measured).toEqual({ width: 260, height: 200 });
  });
});
