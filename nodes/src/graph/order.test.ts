import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalog } from '../catalog.ts';
import { findCycles } from './find-cycles.ts';
import { downstreamOf, planNodes, topoOrder, upstreamOf } from './order.ts';
import { Workflow } from './workflow.ts';

const load = (name: string) =>
  Workflow.parse(
    JSON.parse(readFileSync(new URL(`../../../workflows/${name}.workflow.json`, import.meta.url), 'utf8')),
  );

function expectDependencyOrder(wf: Workflow, order: string[]) {
  for (const [i, id] of order.entries()) {
    for (const ref of Object.values(wf.nodes[id]!.inputs)) expect(order.indexOf(ref.node)).toBeLessThan(i);
  }
}

describe('ordering', () => {
  it('orders every node after the nodes it reads from, deterministically', () => {
    const wf = load('tiny-vae');
    const order = topoOrder(wf);
    expect(new Set(order)).toEqual(new Set(Object.keys(wf.nodes)));
    expectDependencyOrder(wf, order);
    expect(topoOrder(wf)).toEqual(order);
  });

  it('plans only what output nodes need', () => {
    const wf = load('text-to-image');
    wf.nodes.orphan = { type: 'emptyLatent', params: {}, inputs: { vae: { node: 'model', output: 'vae' } } };
    const plan = planNodes(wf, catalog);
    expect(plan).not.toContain('orphan');
    expect(plan).toHaveLength(6);
    expectDependencyOrder(wf, plan);
  });

  it('plans for given targets', () => {
    const wf = load('text-to-image');
    expect(planNodes(wf, catalog, ['prompt'])).toEqual(['model', 'prompt']);
    expect(() => planNodes(wf, catalog, ['nope'])).toThrow('"nope"');
  });

  it('finds what a change invalidates and what a node needs', () => {
    const wf = load('save-latent');
    expect(downstreamOf(wf, ['prompt'])).toEqual(new Set(['prompt', 'denoise', 'decode', 'save', 'saveLatent']));
    expect(upstreamOf(wf, ['decode'])).toEqual(new Set(['decode', 'model', 'denoise', 'prompt', 'latent']));
  });

  it('throws on a cycle', () => {
    const wf = load('text-to-image');
    wf.nodes.latent!.inputs.vae = { node: 'decode', output: 'image' };
    expect(() => topoOrder(wf)).toThrow(/cycle/);
  });
});

describe('findCycles', () => {
  it('finds each cycle once, in data-flow order, with all members', () => {
    const deps = new Map([
      ['a', ['c']], // a reads c
      ['b', ['a']],
      ['c', ['b', 'd']],
      ['d', []],
      ['e', ['e']],
      ['f', ['d']],
    ]);
    expect(findCycles(deps)).toEqual([
      { members: ['a', 'b', 'c'], path: ['a', 'b', 'c', 'a'] },
      { members: ['e'], path: ['e', 'e'] },
    ]);
  });

  it('copes with long chains without recursion', () => {
    const n = 20_000;
    const deps = new Map(Array.from({ length: n }, (_, i) => [`n${i}`, i === 0 ? [`n${n - 1}`] : [`n${i - 1}`]]));
    const [cycle] = findCycles(deps);
    expect(cycle?.members).toHaveLength(n);
    expect(cycle?.path).toHaveLength(n + 1);
  });
});
