import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendSpec } from './backend-spec.ts';
import { Engine, type EngineEvent } from './engine.ts';

// The Engine with the real ONNX backend on the built-in default model (CPU): caching, interrupt within one
// denoise step while onnxruntime holds the worker thread, failure, and previews.

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const textToImage = JSON.parse(
  readFileSync(path.join(repoRoot, 'workflows/text-to-image.workflow.json'), 'utf8'),
) as Workflow;

function variant(nodeId: string, param: string, value: unknown): Workflow {
  const wf = structuredClone(textToImage);
  wf.nodes[nodeId]!.params[param] = value;
  return wf;
}

describe('Engine with the ONNX backend', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'sdflow-engine-'));
  let engine: Engine;
  const events: EngineEvent[] = [];
  const eventsOf = (runId: string) => events.filter((e) => e.runId === runId);
  const ids = (runId: string, type: EngineEvent['type']) =>
    eventsOf(runId).flatMap((e) => (e.type === type && 'nodeId' in e && e.nodeId ? [e.nodeId] : []));

  beforeAll(async () => {
    const dir = (name: string) => path.join(tmp, name);
    engine = await Engine.start({
      backend: backendSpec(
        { modelsDir: dir('models'), outputDir: dir('output'), cacheDir: dir('cache'), device: 'cpu' },
        {},
      ),
    });
    engine.on((e) => events.push(e));
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('runs the example workflow, then runs it again executing 0 nodes', async () => {
    const first = await engine.waitFor(engine.queue(textToImage));
    expect(first.status).toBe('finished');
    expect(first.files).toHaveLength(1);
    expect(eventsOf(first.runId).some((e) => e.type === 'preview' && e.mime === 'image/jpeg')).toBe(true);
    const again = await engine.waitFor(engine.queue(textToImage));
    expect(again.status).toBe('finished');
    expect(ids(again.runId, 'nodeStarted')).toEqual([]);
    expect(ids(again.runId, 'nodeCached')).toEqual(Object.keys(textToImage.nodes));
    expect(again.files).toEqual(first.files);
  }, 180_000);

  it('re-executes only the changed node and its descendants', async () => {
    const wf = variant('denoise', 'cfg', 4);
    const run = await engine.waitFor(engine.queue(wf));
    expect(run.status).toBe('finished');
    expect(ids(run.runId, 'nodeStarted')).toEqual(['denoise', 'decode', 'save']);
    expect(ids(run.runId, 'nodeCached')).toEqual(['model', 'prompt', 'latent']);
  }, 180_000);

  it('interrupts mid-denoise within one step, and the next run succeeds', async () => {
    const wf = variant('denoise', 'steps', 40);
    const runId = engine.queue(wf);
    let workerStep = -1;
    const off = engine.on((e) => {
      if (e.type === 'nodeProgress' && e.runId === runId && e.nodeId === 'denoise' && e.value === 2) {
        engine.interrupt(runId);
        workerStep = engine.snapshot().running?.interruptedAtStep ?? -1;
      }
    });
    const result = await engine.waitFor(runId);
    off();
    expect(result).toMatchObject({ status: 'interrupted', nodeId: 'denoise' });
    const steps = eventsOf(runId).flatMap((e) =>
      e.type === 'nodeProgress' && e.nodeId === 'denoise' ? [e.value] : [],
    );
    // Events still in flight may show later steps than the listener saw; the worker's own count is the truth.
    expect(workerStep).toBeGreaterThanOrEqual(2);
    expect(Math.max(...steps)).toBeLessThanOrEqual(workerStep + 1);
    expect(Math.max(...steps)).toBeLessThan(40);
    const next = await engine.waitFor(engine.queue(variant('denoise', 'steps', 2)));
    expect(next.status).toBe('finished');
  }, 180_000);

  it('fails the run at a failing node and keeps serving', async () => {
    const failed = await engine.waitFor(engine.queue(variant('model', 'model', 'no-such-model')));
    expect(failed).toMatchObject({ status: 'failed', nodeId: 'model' });
    expect(eventsOf(failed.runId)).toContainEqual(expect.objectContaining({ type: 'nodeFailed', nodeId: 'model' }));
    const ok = await engine.waitFor(engine.queue(textToImage));
    expect(ok.status).toBe('finished');
  }, 180_000);
});
