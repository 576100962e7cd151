import { TestClient } from '@sdflow/runtime/server/test/ws-test-client.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, finished, runEnd } from './helpers/api.ts';
import { makeDirs, type ServerProcess, startServer } from './helpers/server-process.ts';
import { txt2img } from './helpers/workflows.ts';

// Interrupt during denoise on a real server: the run stops within one step, and the run queued behind it completes.

describe('serve: interrupt', () => {
  let dirs: Awaited<ReturnType<typeof makeDirs>>;
  let server: ServerProcess;
  let api: Api;

  beforeAll(async () => {
    dirs = await makeDirs();
    server = await startServer(dirs);
    api = new Api(server.url);
  });
  afterAll(async () => {
    await server?.stop();
    await dirs?.remove();
  });

  it('stops a denoise within one step, then runs the next queued run', async () => {
    const client = await TestClient.connect(api.wsUrl);
    const long = await api.queue(txt2img({ steps: 200, prompt: 'a very long run', previewMethod: 'none' }));
    const next = await api.queue(txt2img({ steps: 2, prompt: 'the run after' }));
    const queue = await api.json<{ running: { runId: string } | null; queue: { runId: string }[] }>('/api/queue');
    expect(queue.queue.map((q) => q.runId)).toContain(next);

    await client.waitForMessage(
      (m) => m.type === 'nodeProgress' && m.runId === long && m.nodeId === 'denoise' && (m.value as number) >= 2,
      'denoise step 2',
    );
    const answer = await (await api.post('/api/interrupt', { runId: long })).json();
    expect(answer).toMatchObject({ interrupted: true, at: { runId: long, nodeId: 'denoise' } });
    const atStep = (answer as { at: { value: number } }).at.value;

    const end = await runEnd(client, long);
    expect(end).toMatchObject({ type: 'runInterrupted', nodeId: 'denoise' });
    const steps = client
      .ofRun(long)
      .flatMap((m) => (m.type === 'nodeProgress' && m.nodeId === 'denoise' ? [m.value as number] : []));
    // The step under way when the interrupt arrived may complete; none after it.
    expect(Math.max(...steps)).toBeLessThanOrEqual(atStep + 1);
    expect(Math.max(...steps)).toBeLessThan(200);

    const done = await finished(client, next);
    expect(done.files).toHaveLength(1);
    const history = await api.json<{ runs: { runId: string; status: string }[] }>('/api/history');
    expect(history.runs.slice(0, 2)).toEqual([
      expect.objectContaining({ runId: next, status: 'finished' }),
      expect.objectContaining({ runId: long, status: 'interrupted' }),
    ]);
    await client.close();
  });
});
