import { catalog } from '@sdflow/nodes/catalog.ts';
import { describe, expect, it } from 'vitest';
import { PlanError, planRun } from './plan.ts';
import { txt2imgWorkflow } from './test/txt2img-workflow.ts';

describe('planRun', () => {
  it('orders every node after its inputs, visiting inputs in declared order', () => {
    const plan = planRun(txt2imgWorkflow(), catalog);
    expect(plan.outputs).toEqual(['save']);
    expect(plan.order).toEqual(['model', 'prompt', 'latent', 'denoise', 'decode', 'save']);
  });

  it('plans from chosen targets only', () => {
    const wf = txt2imgWorkflow();
    wf.nodes.saveLatent = { type: 'saveLatent', params: {}, inputs: { latent: { node: 'latent', output: 'latent' } } };
    expect(planRun(wf, catalog).outputs).toEqual(['save', 'saveLatent']);
    expect(planRun(wf, catalog, ['saveLatent']).order).toEqual(['model', 'latent', 'saveLatent']);
  });

  it('rejects cycles, dangling references and unknown types, naming the node', () => {
    const cyc = txt2imgWorkflow();
    cyc.nodes.model!.inputs.offload = { node: 'save', output: 'x' };
    expect(() => planRun(cyc, catalog)).toThrow(PlanError);
    expect(() => planRun(cyc, catalog)).toThrow(/cycle/);
    const dangling = txt2imgWorkflow();
    dangling.nodes.decode!.inputs.latent = { node: 'nope', output: 'latent' };
    expect(() => planRun(dangling, catalog)).toThrow('node "decode" input "latent" refers to missing node "nope"');
    const unknown = txt2imgWorkflow();
    unknown.nodes.prompt!.type = 'mystery';
    expect(() => planRun(unknown, catalog)).toThrow('node "prompt" has unknown type "mystery"');
  });
});
