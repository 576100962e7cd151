import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_PROMPT } from '../executor/test/fake-backend.ts';
import { txt2imgWorkflow } from '../executor/test/txt2img-workflow.ts';
import { Engine, type EngineEvent } from './engine.ts';

// The Engine over a real worker thread; the fake backend holds the worker's thread for each denoise step
// the way onnxruntime's synchronous session.run does.

const fakeBackend = fileURLToPath(new URL('../executor/test/fake-backend.ts', import.meta.url));

describe('Engine', () => {
  let engine: Engine;
  const events: EngineEvent[] = [];
  beforeAll(async () => {
    engine = await Engine.start({
      backend: { module: fakeBackend, export: 'createFakeBackend', options: { stepMs: 30 } },
    });
    engine.on((e) => events.push(e));
  });
  afterAll(() => engine.close());

  const eventsOf = (runId: string) => events.filter((e) => e.runId === runId);
  const started = (runId: string) => eventsOf(runId).flatMap((e) => (e.type === 'nodeStarted' ? [e.nodeId] : []));

  it('runs queued workflows one at a time, in order, and caches across runs', async () => {
    const a = engine.queue(txt2imgWorkflow());
    const b = engine.queue(txt2imgWorkflow());
    expect(engine.snapshot().queued.map((q) => q.runId)).toContain(b);
    const [ra, rb] = await Promise.all([engine.waitFor(a), engine.waitFor(b)]);
    expect(ra.status).toBe('finished');
    expect(rb.status).toBe('finished');
    expect(started(a)).toEqual(['model', 'prompt', 'latent', 'denoise', 'decode', 'save']);
    expect(started(b)).toEqual([]);
    expect(eventsOf(b).filter((e) => e.type === 'nodeCached')).toHaveLength(6);
    expect(eventsOf(a)[0]).toMatchObject({ type: 'runQueued', position: 0 });
    expect(eventsOf(b)[0]).toMatchObject({ type: 'runQueued', position: 1 });
    const previews = eventsOf(a).filter((e) => e.type === 'preview');
    expect(previews.length).toBeGreaterThan(0);
    expect(previews[0]).toMatchObject({ mime: 'image/jpeg', width: 8, height: 8, nodeId: 'denoise' });
    const jpeg = previews[0]!.type === 'preview' ? previews[0]!.data : new Uint8Array();
    expect([...jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
  });

  it('interrupts mid-denoise within one step while the worker thread is busy, then serves the next run', async () => {
    const wf = txt2imgWorkflow({ steps: 200, prompt: 'interrupt me' });
    const runId = engine.queue(wf);
    const next = engine.queue(txt2imgWorkflow({ steps: 2, prompt: 'after the interrupt' }));
    const workerStep = await new Promise<number>((resolve) => {
      const off = engine.on((e) => {
        if (e.type === 'nodeProgress' && e.runId === runId && e.nodeId === 'denoise' && e.value === 3) {
          off();
          engine.interrupt(runId);
          resolve(engine.snapshot().running?.interruptedAtStep ?? -1);
        }
      });
    });
    expect(workerStep).toBeGreaterThanOrEqual(3);
    const result = await engine.waitFor(runId);
    expect(result).toMatchObject({ status: 'interrupted', nodeId: 'denoise' });
    const steps = eventsOf(runId).flatMap((e) =>
      e.type === 'nodeProgress' && e.nodeId === 'denoise' ? [e.value] : [],
    );
    // The step under way when the flag was raised may finish; none after it (events in flight may lag).
    expect(Math.max(...steps)).toBeLessThanOrEqual(workerStep + 1);
    expect(Math.max(...steps)).toBeLessThan(200);
    expect(eventsOf(runId).at(-1)).toMatchObject({ type: 'runInterrupted', nodeId: 'denoise' });
    expect((await engine.waitFor(next)).status).toBe('finished');
    expect(engine.snapshot()).toEqual({ running: null, queued: [] });
  });

  it('fails a run at a failing node and keeps serving', async () => {
    const bad = txt2imgWorkflow();
    bad.nodes.latent!.params.width = 100;
    const failed = await engine.waitFor(engine.queue(bad));
    expect(failed).toMatchObject({ status: 'failed', nodeId: 'latent' });
    expect(eventsOf(failed.runId)).toContainEqual(
      expect.objectContaining({ type: 'nodeFailed', nodeId: 'latent', param: 'width' }),
    );
    const ok = await engine.waitFor(engine.queue(txt2imgWorkflow({ prompt: 'still serving' })));
    expect(ok.status).toBe('finished');
  });

  it('drops queued runs on interrupt and clearQueue, each ending interrupted', async () => {
    const running = engine.queue(txt2imgWorkflow({ steps: 100, prompt: 'long' }));
    const q1 = engine.queue(txt2imgWorkflow({ prompt: 'q1' }));
    const q2 = engine.queue(txt2imgWorkflow({ prompt: 'q2' }));
    const q3 = engine.queue(txt2imgWorkflow({ prompt: 'q3' }));
    expect(engine.interrupt(q1)).toBe(true);
    expect(engine.clearQueue()).toEqual([q2, q3]);
    expect(engine.snapshot().running?.runId).toBe(running);
    engine.interrupt();
    expect((await engine.waitFor(running)).status).toBe('interrupted');
    for (const id of [q1, q2, q3]) {
      expect((await engine.waitFor(id)).status).toBe('interrupted');
      expect(started(id)).toEqual([]);
    }
  });

  it('keeps the main thread free while the worker thread is held by inference', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const runId = engine.queue(txt2imgWorkflow({ steps: 20, prompt: 'main thread stays free' }));
    await engine.waitFor(runId);
    clearInterval(timer);
    // 20 steps x 30 ms of a held worker thread: a blocked main thread would barely tick.
    expect(ticks).toBeGreaterThan(20);
  });

  it('fails the running run when the worker dies, restarts it, and serves the next run', async () => {
    const crashed = await engine.waitFor(engine.queue(txt2imgWorkflow({ prompt: EXIT_PROMPT })));
    expect(crashed.status).toBe('failed');
    expect(crashed.error).toMatch(/engine worker exited with code 70/);
    expect(eventsOf(crashed.runId).at(-1)).toMatchObject({ type: 'runFailed' });
    const ok = await engine.waitFor(engine.queue(txt2imgWorkflow({ prompt: 'after the crash' })));
    expect(ok.status).toBe('finished');
  });

  it('calls backend methods in the worker and reports cache stats', async () => {
    const counters = await engine.callBackend<{ denoiseSteps: number }>('counters');
    expect(counters.denoiseSteps).toBeGreaterThan(0);
    await expect(engine.callBackend('nope')).rejects.toThrow('backend has no method "nope"');
    expect((await engine.cacheStats()).entries).toBeGreaterThan(0);
    await engine.clearCache();
    expect((await engine.cacheStats()).entries).toBe(0);
  });
});

describe('Engine.start', () => {
  it('rejects with the backend error when the backend cannot start', async () => {
    await expect(Engine.start({ backend: { module: fakeBackend, export: 'missing' } })).rejects.toThrow(
      /no export "missing"/,
    );
  });
});
