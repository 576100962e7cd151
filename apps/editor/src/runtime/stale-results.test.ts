import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { describe, expect, it } from 'vitest';
import { staleNodes } from './stale-results.ts';

const wf = (width: number): Workflow => ({
  version: 1,
  meta: {},
  nodes: {
    model: { type: 'loadModel', params: { model: 'default' }, inputs: {} },
    latent: { type: 'emptyLatent', params: { width, height: 64 }, inputs: { vae: { node: 'model', output: 'vae' } } },
    denoise: { type: 'unetDenoise', params: {}, inputs: { latent: { node: 'latent', output: 'latent' } } },
  },
});

describe('staleNodes', () => {
  it('marks an edited node and everything downstream of it; upstream results still apply', () => {
    expect([...staleNodes(wf(64), wf(100))].sort()).toEqual(['denoise', 'latent']);
    expect(staleNodes(wf(64), wf(64)).size).toBe(0);
  });

  it('ignores key order; a node the run did not have is stale; an unknown run marks nothing', () => {
    const ran = wf(64);
    ran.nodes.latent = { ...ran.nodes.latent!, params: { height: 64, width: 64 } };
    expect(staleNodes(wf(64), ran).size).toBe(0);
    const doc = wf(64);
    doc.nodes.extra = { type: 'loadModel', params: {}, inputs: {} };
    expect([...staleNodes(doc, ran)]).toEqual(['extra']);
    expect(staleNodes(doc, undefined).size).toBe(0);
  });
});
