import { TestClient } from '@sdflow/runtime/server/test/ws-test-client.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, finished, nodesWith, type StoreStats } from './helpers/api.ts';
import { makeDirs, type ServerProcess, startServer } from './helpers/server-process.ts';
import { txt2img } from './helpers/workflows.ts';

// The model store's own counters, read over GET /api/stats from a real server process: offload `model`
// keeps fewer sessions resident than `none`; a Cache Embeddings hit never loads the text encoders,
// in the same process and after a restart.

const TEXT_ENCODERS = ['text_encoder', 'text_encoder_2'];
const prompt = 'a lighthouse on a cliff, stormy sea';

describe('serve: model store counters', () => {
  let dirs: Awaited<ReturnType<typeof makeDirs>>;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    dirs = await makeDirs();
  });
  afterAll(async () => {
    await server?.stop();
    await dirs?.remove();
  });

  async function run(workflow: ReturnType<typeof txt2img>): Promise<{ store: StoreStats; started: string[] }> {
    const api = new Api(server!.url);
    const client = await TestClient.connect(api.wsUrl);
    try {
      const runId = await api.queue(workflow);
      await finished(client, runId);
      const stats = await api.stats();
      expect(stats.backend.store, JSON.stringify(stats.backend)).toBeDefined();
      return { store: stats.backend.store!, started: nodesWith(client, runId, 'nodeStarted') };
    } finally {
      await client.close();
    }
  }

  const loads = (s: StoreStats, name: string) => s.created[name] ?? 0;

  it('offload "model" keeps fewer components resident than "none"', async () => {
    server = await startServer(dirs);
    // Fresh process: the peak below covers this run alone, denoise included.
    const model = await run(txt2img({ prompt, offload: 'model', cacheEmbeddings: true }));
    expect(TEXT_ENCODERS.map((c) => loads(model.store, c))).toEqual([1, 1]);
    expect(loads(model.store, 'unet')).toBe(1);
    expect(model.store.peakResident).toBe(1);
    expect(model.store.resident.length).toBeLessThanOrEqual(1);

    const none = await run(txt2img({ prompt: `${prompt}, at night`, offload: 'none' }));
    expect(none.store.resident).toEqual(expect.arrayContaining(['unet', 'vae_decoder', ...TEXT_ENCODERS]));
    expect(none.store.peakResident).toBeGreaterThan(model.store.peakResident);
    expect(none.store.peakResident).toBeGreaterThanOrEqual(4);
  });

  it('a Cache Embeddings hit in the same process completes without loading the text encoders again', async () => {
    const before = (await new Api(server!.url).stats()).backend.store!;
    // Another offload policy gives new model handles, so Cache Embeddings runs again (not output-cached) and hits disk.
    const hit = await run(txt2img({ prompt, offload: 'sequential', cacheEmbeddings: true, seed: 11 }));
    expect(hit.started).toContain('prompt');
    expect(TEXT_ENCODERS.map((c) => loads(hit.store, c))).toEqual(TEXT_ENCODERS.map((c) => loads(before, c)));
  });

  it('after a restart, a Cache Embeddings hit completes with the text encoders never loaded', async () => {
    await server!.stop();
    server = await startServer(dirs);
    const hit = await run(txt2img({ prompt, offload: 'model', cacheEmbeddings: true }));
    expect(hit.started).toContain('prompt');
    expect(TEXT_ENCODERS.map((c) => loads(hit.store, c))).toEqual([0, 0]);
    expect(loads(hit.store, 'unet')).toBe(1);
  });
});
