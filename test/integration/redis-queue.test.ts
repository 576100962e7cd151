import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type RedisProcess, startRedis } from '@sdflow/runtime/bench/redis-server.ts';
import { TestClient } from '@sdflow/runtime/server/test/ws-test-client.ts';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Api, finished, runEnd } from './helpers/api.ts';
import { historyOf, until } from './helpers/history.ts';
import {
  makeDirs,
  repoRoot,
  runToExit,
  type ServerProcess,
  startProcess,
  startServer,
} from './helpers/server-process.ts';
import { txt2img } from './helpers/workflows.ts';

// `sdflow serve --queue` with `sdflow worker` processes on a real redis-server: runs survive a worker killed
// mid-run and a server restart, each ends exactly once, and every file lands in the server's output folder.

interface WorkerStat {
  id: string;
  state: string;
  runId?: string;
}

// Like the browser tests: without Debian's redis-server they are skipped locally, and fail in CI (which installs it).
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

describe.skipIf(!hasRedis && !process.env.CI)('serve --queue redis with sdflow worker processes', () => {
  let redis: RedisProcess;
  let dirs: Awaited<ReturnType<typeof makeDirs>>;
  let server: ServerProcess | undefined;
  const workers: ServerProcess[] = [];

  const startWorker = (id: string) =>
    startProcess(
      [
        'worker',
        '--queue',
        redis.url,
        '--device',
        'cpu',
        '--models',
        dirs.models,
        '--cache',
        path.join(dirs.root, `cache-${id}`),
        '--id',
        id,
        '--lock-s',
        '4',
        '--grace-s',
        '0',
      ],
      /sdflow worker \S+ ready/,
    ).then((w) => {
      workers.push(w);
      return w;
    });

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    await server?.stop();
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await dirs?.remove();
  });

  it('finishes 16 runs exactly once with a worker killed mid-run and a third started late', async () => {
    dirs = await makeDirs();
    server = await startServer(dirs, ['--queue', redis.url]);
    const api = new Api(server.url);
    await startWorker('w1');
    const clients = await Promise.all([TestClient.connect(api.wsUrl), TestClient.connect(api.wsUrl)]);

    // A long run first, while w1 is the only worker: it is certainly w1's when w1 dies, well before its end.
    const lost = await api.queue(txt2img({ seed: 99, steps: 1000, prefix: 'rq', previewMethod: 'none' }));
    await clients[0]!.waitForMessage(
      (m) => m.type === 'nodeProgress' && m.runId === lost && m.nodeId === 'denoise' && (m.value as number) >= 3,
      'the long run under way on w1',
    );
    await startWorker('w2');
    const runIds: string[] = [lost];
    for (let i = 0; i < 15; i++) runIds.push(await api.queue(txt2img({ seed: 100 + i, steps: 60, prefix: 'rq' })));
    await clients[0]!.waitForMessage((m) => m.type === 'runStarted' && m.runId === runIds[1], 'w2 at work');
    expect(clients[0]!.ofRun(lost).some((m) => m.type === 'runFinished')).toBe(false);
    await workers[0]!.kill9();
    await startWorker('w3');

    const history = await until('16 ended runs', async () => {
      const runs = await historyOf(api);
      return runIds.every((id) => runs.some((r) => r.runId === id)) ? runs : undefined;
    });
    const ours = history.filter((r) => runIds.includes(r.runId));
    expect(ours).toHaveLength(16);
    expect(ours.map((r) => r.status)).toEqual(Array(16).fill('finished'));
    // The run w1 held was taken over by another worker (BullMQ's stalled-job check) and ran again. (Delivery is at
    // least once: on a loaded machine a lock renewed late can make any run start twice, so only this one is pinned.)
    const taken = ours.find((r) => r.runId === lost)!;
    expect(taken.attempts).toBeGreaterThanOrEqual(2);
    expect(['w2', 'w3']).toContain(taken.worker);
    expect(ours.some((r) => r.worker === 'w3')).toBe(true);
    // 16 distinct files, in the server's own output folder, and nothing else (no copy from the lost attempt).
    const files = (await readdir(dirs.output)).filter((n) => n.startsWith('rq_'));
    expect(files).toHaveLength(16);
    expect(new Set(ours.flatMap((r) => r.files))).toEqual(new Set(files));
    // Both clients followed every run: progress and its one end.
    for (const client of clients) {
      for (const runId of runIds) {
        await finished(client, runId);
        const runEvents = client.ofRun(runId);
        expect(runEvents.some((m) => m.type === 'nodeProgress')).toBe(true);
        expect(runEvents.filter((m) => m.type === 'runFinished')).toHaveLength(1);
      }
      await client.close();
    }
    // Each worker is listed with its device and the model it ran.
    const stats = await api.json<{ workers: (WorkerStat & { device: string; models: string[] })[] }>('/api/stats');
    expect(stats.workers.find((w) => w.id === 'w3')).toMatchObject({ device: 'cpu', models: ['tiny'] });
  });

  it('loses nothing when the server restarts mid-queue', async () => {
    dirs = await makeDirs();
    server = await startServer(dirs, ['--queue', redis.url]);
    let api = new Api(server.url);
    await startWorker('w4');
    const client = await TestClient.connect(api.wsUrl);
    const runIds: string[] = [];
    for (let i = 0; i < 8; i++) runIds.push(await api.queue(txt2img({ seed: 200 + i, steps: 40, prefix: 'rs' })));
    await finished(client, runIds[1]!);
    await client.close();
    await server.stop();
    // While the server is down the worker goes on; what it finishes is read back from the queue at the next start.
    await new Promise((r) => setTimeout(r, 1500));
    server = await startServer(dirs, ['--queue', redis.url]);
    api = new Api(server.url);

    const history = await until('8 ended runs', async () => {
      const runs = await historyOf(api);
      return runIds.every((id) => runs.some((r) => r.runId === id)) ? runs : undefined;
    });
    const ours = history.filter((r) => runIds.includes(r.runId));
    expect(ours.map((r) => r.status)).toEqual(Array(8).fill('finished'));
    const files = (await readdir(dirs.output)).filter((n) => n.startsWith('rs_'));
    expect(files).toHaveLength(8);
    expect(new Set(ours.flatMap((r) => r.files))).toEqual(new Set(files));
  });

  it('reaches the worker that holds a run with an interrupt, and drops a queued run before any worker takes it', async () => {
    dirs = await makeDirs();
    server = await startServer(dirs, ['--queue', redis.url]);
    const api = new Api(server.url);
    await startWorker('w5');
    // Validation names a model no live worker holds, listing those they do.
    const checked = await (await api.post('/api/validate', { workflow: txt2img({ model: 'nope' }) })).json();
    expect(checked).toMatchObject({ ok: false, problems: [{ code: 'unknownModel', nodeId: 'model' }] });
    expect((checked as { problems: { message: string }[] }).problems[0]!.message).toMatch(/"nope".*"tiny"/);
    const client = await TestClient.connect(api.wsUrl);
    const long = await api.queue(txt2img({ steps: 1000, seed: 9, prefix: 'ri', previewMethod: 'none' }));
    const waiting = await api.queue(txt2img({ seed: 10, prefix: 'ri' }));
    await client.waitForMessage(
      (m) => m.type === 'nodeProgress' && m.runId === long && (m.value as number) >= 2,
      'the long run under way on the worker',
    );
    expect(await (await api.post('/api/interrupt', { runId: waiting })).json()).toMatchObject({ interrupted: true });
    expect(await (await api.post('/api/interrupt', { runId: long })).json()).toMatchObject({ interrupted: true });
    const end = await runEnd(client, long);
    expect(end).toMatchObject({ type: 'runInterrupted', nodeId: 'denoise' });
    const steps = client.ofRun(long).flatMap((m) => (m.type === 'nodeProgress' ? [m.value as number] : []));
    expect(Math.max(...steps)).toBeLessThan(1000);
    // The dropped run never started anywhere; the worker is free for the next one.
    const after = await api.queue(txt2img({ seed: 11, prefix: 'ri' }));
    await finished(client, after);
    expect(client.ofRun(waiting).map((m) => m.type)).toEqual(['runQueued', 'runInterrupted']);
    expect(await api.json(`/api/history/${waiting}`)).toMatchObject({ status: 'interrupted' });
    await client.close();
  });

  it('gives a run back to the queue when its worker is stopped with SIGTERM, for another worker to finish', async () => {
    dirs = await makeDirs();
    server = await startServer(dirs, ['--queue', redis.url]);
    const api = new Api(server.url);
    const leaving = await startWorker('w6');
    const client = await TestClient.connect(api.wsUrl);
    const runId = await api.queue(txt2img({ steps: 300, seed: 12, prefix: 'rg', previewMethod: 'none' }));
    await client.waitForMessage(
      (m) => m.type === 'nodeProgress' && m.runId === runId && (m.value as number) >= 2,
      'the run under way on w6',
    );
    leaving.child.kill('SIGTERM');
    expect(await leaving.exited).toEqual({ code: 0, signal: null });
    await until('the run back in the queue', async () => {
      const q = await api.json<{ queue: { runId: string }[] }>('/api/queue');
      return q.queue.some((r) => r.runId === runId) ? true : undefined;
    });
    await startWorker('w7');
    await finished(client, runId);
    expect(await api.json(`/api/history/${runId}`)).toMatchObject({ status: 'finished', worker: 'w7' });
    expect((await readdir(dirs.output)).filter((n) => n.startsWith('rg_'))).toHaveLength(1);
    await client.close();
  });

  it('sends the input images a run reads with its job: image to image on a worker with no shared disk', async () => {
    dirs = await makeDirs();
    server = await startServer(dirs, ['--queue', redis.url]);
    const api = new Api(server.url);
    await startWorker('w8');
    const picture = await sharp({
      create: { width: 64, height: 64, channels: 3, background: { r: 20, g: 90, b: 200 } },
    })
      .png()
      .toBuffer();
    const uploaded = await api.fetch('/api/inputs?name=sea.png', { method: 'POST', body: picture });
    expect(uploaded.status).toBe(201);
    const workflow = JSON.parse(await readFile(path.join(repoRoot, 'workflows/image-to-image.workflow.json'), 'utf8'));
    Object.assign(workflow.nodes.model.params, { model: 'tiny', precision: 'fp32', device: 'cpu' });
    Object.assign(workflow.nodes.load.params, { file: 'sea.png', fit: 'none' });
    workflow.nodes.denoise.params.steps = 4;
    const client = await TestClient.connect(api.wsUrl);
    const runId = await api.queue(workflow);
    const end = await finished(client, runId);
    expect(end.files).toHaveLength(1);
    expect(await readdir(dirs.output)).toContain((end.files as string[])[0]);
    await client.close();
  });
});

describe('a queue that cannot be reached', () => {
  it('stops serve and worker at start with one line naming the URL (exit 2)', async () => {
    for (const args of [
      ['serve', '--port', '0', '--queue', 'redis://127.0.0.1:1'],
      ['worker', '--queue', 'redis://127.0.0.1:1'],
    ]) {
      const { code, output } = await runToExit(args);
      expect(code).toBe(2);
      expect(output.trim().split('\n')).toEqual([
        expect.stringMatching(/^sdflow (serve|worker): cannot reach the Redis queue at redis:\/\/127\.0\.0\.1:1/),
      ]);
    }
  });
});
