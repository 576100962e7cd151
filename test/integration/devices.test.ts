import { readdir } from 'node:fs/promises';
import { TestClient } from '@sdflow/runtime/server/test/ws-test-client.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, finished } from './helpers/api.ts';
import { historyOf, until } from './helpers/history.ts';
import { makeDirs, type ServerProcess, startServer } from './helpers/server-process.ts';
import { txt2img } from './helpers/workflows.ts';

// `sdflow serve --devices cpu,cpu`: one engine process per device on the embedded store, sharing one output folder.

describe('serve --devices', () => {
  let dirs: Awaited<ReturnType<typeof makeDirs>>;
  let server: ServerProcess;
  let api: Api;

  beforeAll(async () => {
    dirs = await makeDirs();
    server = await startServer(dirs, ['--devices', 'cpu,cpu']);
    api = new Api(server.url);
  });
  afterAll(async () => {
    await server?.stop();
    await dirs?.remove();
  });

  it('sends a run to the device that ran its model last', async () => {
    const client = await TestClient.connect(api.wsUrl);
    const worker = async (o: Parameters<typeof txt2img>[0]) => {
      const runId = await api.queue(txt2img(o));
      await finished(client, runId);
      return (await api.json<{ worker: string }>(`/api/history/${runId}`)).worker;
    };
    const tiny = await worker({ seed: 1, prefix: 'aff' });
    const other = await worker({ seed: 2, prefix: 'aff', model: 'default', size: 64 });
    expect(other).not.toBe(tiny);
    expect(await worker({ seed: 3, prefix: 'aff' })).toBe(tiny);
    expect(await worker({ seed: 4, prefix: 'aff', model: 'default', size: 64 })).toBe(other);
    await client.close();
  });
  it('runs on every device at once, with distinct files in the one output folder', async () => {
    const client = await TestClient.connect(api.wsUrl);
    const runIds: string[] = [];
    for (let i = 0; i < 6; i++) runIds.push(await api.queue(txt2img({ seed: 300 + i, steps: 30, prefix: 'dev' })));
    await until('two runs at once', async () => {
      const q = await api.json<{ active: unknown[] }>('/api/queue');
      return q.active.length === 2 ? true : undefined;
    });
    for (const runId of runIds) await finished(client, runId);
    const runs = (await historyOf(api)).filter((r) => runIds.includes(r.runId));
    expect(new Set(runs.map((r) => r.worker))).toEqual(new Set(['local-0', 'local-1']));
    const files = (await readdir(dirs.output)).filter((n) => n.startsWith('dev_'));
    expect(files).toHaveLength(6);
    expect(new Set(runs.flatMap((r) => r.files))).toEqual(new Set(files));
    const stats = await api.json<{ workers: { id: string; device: string }[] }>('/api/stats');
    expect(stats.workers.map((w) => [w.id, w.device])).toEqual([
      ['local-0', 'cpu'],
      ['local-1', 'cpu'],
    ]);
    await client.close();
  });
});
