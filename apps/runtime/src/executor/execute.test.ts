import { catalog } from '@sdflow/nodes/catalog.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { RunEvent } from '@sdflow/nodes/protocol/events.ts';
import { describe, expect, it } from 'vitest';
import { type ExecuteOptions, execute } from './execute.ts';
import { OutputCache } from './output-cache.ts';
import { createFakeBackend } from './test/fake-backend.ts';
import { txt2imgWorkflow } from './test/txt2img-workflow.ts';

// Executor semantics over the real catalog and kernels, with the fake backend standing in for ONNX.

function setup(stepMs = 0) {
  const backend = createFakeBackend({ stepMs });
  const cache = new OutputCache();
  const run = async (workflow: Workflow, extra: Partial<ExecuteOptions> = {}) => {
    const events: RunEvent[] = [];
    const result = await execute(workflow, { catalog, backend, cache, emit: (e) => events.push(e), ...extra });
    const of = (type: RunEvent['type']) =>
      events.filter((e) => e.type === type).map((e) => ('nodeId' in e ? e.nodeId : undefined));
    return { result, events, started: of('nodeStarted'), cached: of('nodeCached') };
  };
  return { backend, cache, run };
}

const withParam = (wf: Workflow, node: string, param: string, value: unknown): Workflow => {
  const copy = structuredClone(wf);
  copy.nodes[node]!.params[param] = value;
  return copy;
};

describe('execute', () => {
  it('runs the planned nodes in dependency order and reports each one', async () => {
    const { run } = setup();
    const { result, events, started } = await run(txt2imgWorkflow());
    expect(result.status).toBe('finished');
    expect(started).toEqual(['model', 'prompt', 'latent', 'denoise', 'decode', 'save']);
    expect(events[0]).toMatchObject({ type: 'runStarted', nodes: started });
    expect(events.at(-1)).toMatchObject({ type: 'runFinished', files: ['test_00001_0.png'] });
    const finished = events.filter((e) => e.type === 'nodeFinished');
    expect(finished).toHaveLength(6);
    for (const e of finished) {
      expect(e.wallMs).toBeGreaterThanOrEqual(0);
      expect(e.peakBytes).toBeGreaterThan(0);
    }
    const steps = events
      .filter((e) => e.type === 'nodeProgress' && e.nodeId === 'denoise')
      .map((e) => e.type === 'nodeProgress' && e.value);
    expect(steps).toEqual([0, 1, 2, 3, 4]);
  });

  it('executes 0 nodes when an unchanged workflow runs again, and still reports the saved files', async () => {
    const { run, backend } = setup();
    await run(txt2imgWorkflow());
    const before = backend.counters();
    const second = await run(txt2imgWorkflow());
    expect(second.started).toEqual([]);
    expect(second.cached).toEqual(['model', 'prompt', 'latent', 'denoise', 'decode', 'save']);
    expect(second.result.files).toEqual(['test_00001_0.png']);
    expect(backend.counters()).toEqual(before);
  });

  it('re-executes exactly the changed node and its descendants', async () => {
    const { run } = setup();
    const base = txt2imgWorkflow();
    await run(base);
    const steps = await run(withParam(base, 'denoise', 'steps', 3));
    expect(steps.started).toEqual(['denoise', 'decode', 'save']);
    expect(steps.cached).toEqual(['model', 'prompt', 'latent']);
    const prompt = await run(withParam(base, 'prompt', 'prompt', 'a red fox'));
    expect(prompt.started).toEqual(['prompt', 'denoise', 'decode', 'save']);
    expect(prompt.cached).toEqual(['model', 'latent']);
    // Spelling out a default, or reordering params, is not a change.
    const same = await run(withParam(base, 'decode', 'tileSize', 512));
    expect(same.started).toEqual([]);
  });

  it('leaves sibling branches cached when one branch changes', async () => {
    const { run } = setup();
    const base = txt2imgWorkflow();
    base.nodes.keep = { type: 'saveLatent', params: {}, inputs: { latent: { node: 'denoise', output: 'latent' } } };
    await run(base);
    const changed = await run(withParam(base, 'decode', 'tiling', true));
    expect(changed.started).toEqual(['decode', 'save']);
    expect(changed.cached).toEqual(['model', 'prompt', 'latent', 'denoise', 'keep']);
  });

  it('plans only the nodes the outputs need', async () => {
    const { run } = setup();
    const wf = txt2imgWorkflow();
    wf.nodes.unused = {
      type: 'encodePrompt',
      params: { prompt: 'never' },
      inputs: { clip: { node: 'model', output: 'clip' } },
    };
    const { started } = await run(wf);
    expect(started).not.toContain('unused');
    const noOutputs = await run({ version: 1, meta: {}, nodes: { m: { type: 'loadModel', params: {}, inputs: {} } } });
    expect(noOutputs.result.status).toBe('failed');
    expect(noOutputs.result.error).toMatch(/no output node/);
  });

  it('stops within one step on abort, reports the run interrupted, and the next run succeeds', async () => {
    const { run, backend } = setup(5);
    const controller = new AbortController();
    const wf = txt2imgWorkflow({ steps: 50 });
    const interrupted = await run(wf, {
      signal: controller.signal,
      emit: (e) => {
        if (e.type === 'nodeProgress' && e.nodeId === 'denoise' && e.value === 3) controller.abort();
      },
    });
    expect(interrupted.result).toMatchObject({ status: 'interrupted', nodeId: 'denoise' });
    expect(backend.counters().denoiseSteps).toBe(3);
    const next = await run(wf);
    expect(next.result.status).toBe('finished');
    // The interrupted node was not cached; the nodes before it were.
    expect(next.started).toEqual(['denoise', 'decode', 'save']);
    expect(next.events.filter((e) => e.type === 'runInterrupted')).toEqual([]);
  });

  it('honours an abort between nodes', async () => {
    const { run } = setup();
    const controller = new AbortController();
    const { result, events } = await run(txt2imgWorkflow(), {
      signal: controller.signal,
      emit: (e) => {
        if (e.type === 'nodeFinished' && e.nodeId === 'model') controller.abort();
      },
    });
    expect(result).toMatchObject({ status: 'interrupted', nodeId: 'prompt' });
    expect(events.some((e) => e.type === 'nodeStarted' && e.nodeId === 'prompt')).toBe(false);
  });

  it('fails the run at a failing node, naming the node and param, and runs nothing after it', async () => {
    const { run } = setup();
    const bad = withParam(txt2imgWorkflow(), 'latent', 'width', 100);
    const { result, events, started } = await run(bad);
    expect(result).toMatchObject({ status: 'failed', nodeId: 'latent' });
    expect(result.error).toMatch(/node "latent" \(emptyLatent\) failed: width 100/);
    expect(events).toContainEqual(expect.objectContaining({ type: 'nodeFailed', nodeId: 'latent', param: 'width' }));
    expect(started).toEqual(['model', 'prompt', 'latent']);
    expect(events.at(-1)?.type).toBe('runFailed');
    const fixed = await run(txt2imgWorkflow());
    expect(fixed.result.status).toBe('finished');
    expect(fixed.cached).toEqual(['model', 'prompt']);
  });

  it('reports a param outside its schema as a failure of that node and param', async () => {
    const { run } = setup();
    const { result, events } = await run(withParam(txt2imgWorkflow(), 'denoise', 'steps', 0));
    expect(result).toMatchObject({ status: 'failed', nodeId: 'denoise' });
    expect(events).toContainEqual(expect.objectContaining({ type: 'nodeFailed', nodeId: 'denoise', param: 'steps' }));
  });

  it('forwards previews with the node id', async () => {
    const { run } = setup();
    const previews: string[] = [];
    await run(txt2imgWorkflow(), {
      onPreview: (nodeId, image) => previews.push(`${nodeId}:${image.images.dims.join('x')}`),
    });
    expect(previews).toEqual(['denoise:1x8x8x3', 'denoise:1x8x8x3', 'denoise:1x8x8x3', 'denoise:1x8x8x3']);
  });
});
