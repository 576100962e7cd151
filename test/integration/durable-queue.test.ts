import { readdir } from 'node:fs/promises';
import { TestClient } from '@sdflow/runtime/server/test/ws-test-client.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Api, finished } from './helpers/api.ts';
import { historyOf, until } from './helpers/history.ts';
import { makeDirs, type ServerProcess, startServer } from './helpers/server-process.ts';
import { txt2img } from './helpers/workflows.ts';

// The embedded job store on a real server process: kill -9 and SIGTERM lose no accepted run.

const pngs = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.png')).sort();

describe('serve: durable job store', () => {
  let dirs: Awaited<ReturnType<typeof makeDirs>>;
  let server: ServerProcess | undefined;

  beforeEach(async () => {
    dirs = await makeDirs();
  });
  afterEach(async () => {
    await server?.stop();
    await dirs?.remove();
  });

  it('runs all 20 queued runs after kill -9 mid-run and keeps the earlier history', async () => {
    server = await startServer(dirs);
    let api = new Api(server.url);
    const client = await TestClient.connect(api.wsUrl);
    const earlier = await api.queue(txt2img({ seed: 1000, prefix: 'before' }));
    await finished(client, earlier);
    await client.close();

    const runIds: string[] = [];
    for (let i = 0; i < 20; i++) runIds.push(await api.queue(txt2img({ seed: i, steps: 6, prefix: 'dq' })));
    // Mid-run: the first run is executing, the rest wait.
    const inFlight = await until('a running run', async () => {
      const q = await api.json<{ running: { runId: string; nodeStates: Record<string, { status: string }> } | null }>(
        '/api/queue',
      );
      return q.running?.nodeStates.denoise?.status === 'running' ? q.running.runId : undefined;
    });
    await server.kill9();

    server = await startServer(dirs);
    api = new Api(server.url);
    const history = await until('20 ended runs', async () => {
      const runs = await historyOf(api);
      return runs.filter((r) => runIds.includes(r.runId)).length === 20 ? runs : undefined;
    });
    const ours = history.filter((r) => runIds.includes(r.runId));
    expect(ours.map((r) => r.status)).toEqual(Array(20).fill('finished'));
    expect(new Set(ours.map((r) => r.runId)).size).toBe(20);
    // The run cut short ran again (at-least-once); the others ran once.
    expect(ours.find((r) => r.runId === inFlight)?.attempts).toBe(2);
    expect(ours.filter((r) => r.runId !== inFlight).every((r) => r.attempts === 1)).toBe(true);
    expect(history.some((r) => r.runId === earlier && r.status === 'finished')).toBe(true);
    // One file per run: the crashed attempt left neither a half file nor a duplicate.
    const files = await pngs(dirs.output);
    expect(files.filter((f) => f.startsWith('dq_'))).toHaveLength(20);
    expect(new Set(ours.flatMap((r) => r.files))).toEqual(new Set(files.filter((f) => f.startsWith('dq_'))));
    expect((await readdir(dirs.output)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('on SIGTERM mid-run tells clients, exits 0, and runs the cut-short and queued runs after a restart', async () => {
    server = await startServer(dirs, ['--grace-s', '0']);
    let api = new Api(server.url);
    const client = await TestClient.connect(api.wsUrl);
    const long = await api.queue(txt2img({ steps: 300, seed: 5, prefix: 'long', previewMethod: 'none' }));
    const queued = [
      await api.queue(txt2img({ seed: 6, prefix: 'q' })),
      await api.queue(txt2img({ seed: 7, prefix: 'q' })),
    ];
    await client.waitForMessage(
      (m) => m.type === 'nodeProgress' && m.runId === long && (m.value as number) >= 2,
      'the long run under way',
    );
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.logs()).not.toMatch(/terminate called|Aborted|core dumped/);
    expect(client.messages.find((m) => m.type === 'serverStopping')).toMatchObject({ graceMs: 0 });
    await client.waitFor(() => client.closed, 'the connection closed');
    // Stopped on purpose, the run went back to the queue: no end event for it.
    expect(client.ofRun(long).some((m) => m.type === 'runInterrupted' || m.type === 'runFailed')).toBe(false);

    server = await startServer(dirs, ['--grace-s', '0']);
    api = new Api(server.url);
    const queue = await api.json<{ queue: { runId: string }[]; active: { runId: string }[] }>('/api/queue');
    expect([...queue.active, ...queue.queue].map((r) => r.runId).sort()).toEqual([long, ...queued].sort());
    const history = await until('the queued runs', async () => {
      const runs = await historyOf(api);
      return queued.every((id) => runs.some((r) => r.runId === id)) ? runs : undefined;
    });
    expect(history.filter((r) => queued.includes(r.runId)).map((r) => r.status)).toEqual(['finished', 'finished']);
    const resumed = history.find((r) => r.runId === long);
    // The long run started again first (its place in the queue kept) and, stopped on purpose, used no attempt.
    expect(resumed).toMatchObject({ status: 'finished', attempts: 1 });
  });
});
