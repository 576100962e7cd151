import { catalog } from '@sdflow/nodes/catalog.ts';
import { validateWorkflow } from '@sdflow/nodes/graph/validate.ts';
import { decodePreviewFrame } from '@sdflow/nodes/protocol/preview-frame.ts';
import { readPngText } from '@sdflow/runtime/server/png-text.ts';
import { TestClient } from '@sdflow/runtime/server/test/ws-test-client.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, finished, nodesWith } from './helpers/api.ts';
import { makeDirs, type ServerProcess, startServer } from './helpers/server-process.ts';
import { txt2img } from './helpers/workflows.ts';

// A real `sdflow serve` process on the tiny fixture: a run queued over HTTP, followed by another WebSocket
// client; a changed prompt re-runs only what depends on it; the PNG carries the workflow.

describe('serve: run, follow, cache, PNG workflow', () => {
  let dirs: Awaited<ReturnType<typeof makeDirs>>;
  let server: ServerProcess;
  let api: Api;
  let watcher: TestClient;
  const prompt = 'a red fox in the snow, ünïcode — 🦊';
  let firstRun = '';

  beforeAll(async () => {
    dirs = await makeDirs();
    server = await startServer(dirs);
    api = new Api(server.url);
    watcher = await TestClient.connect(api.wsUrl);
  });
  afterAll(async () => {
    await watcher?.close();
    await server?.stop();
    await dirs?.remove();
  });

  it('runs a workflow queued over HTTP; a second client receives progress, previews and the result', async () => {
    await watcher.waitForMessage((m) => m.type === 'snapshot', 'snapshot');
    expect(watcher.messages[0]).toMatchObject({ type: 'hello', protocolVersion: 1 });
    firstRun = await api.queue(txt2img({ prompt, steps: 3 }));
    const end = await finished(watcher, firstRun).catch((err) => {
      throw new Error(`${err}\nserver log:\n${server.logs()}`);
    });
    const progress = watcher.ofRun(firstRun).filter((m) => m.type === 'nodeProgress' && m.nodeId === 'denoise');
    expect(progress.map((m) => m.value)).toEqual(expect.arrayContaining([1, 2, 3]));
    const previews = watcher.binary.map((b) => decodePreviewFrame(b)).flatMap((r) => (r.ok ? [r.frame] : []));
    const ours = previews.filter((f) => f.runId === firstRun && f.nodeId === 'denoise');
    expect(ours.length).toBeGreaterThan(0);
    expect([...ours[0]!.image.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    const files = end.files as string[];
    expect(files).toHaveLength(1);
    const png = await api.fetch(`/api/outputs/${encodeURIComponent(files[0]!)}`);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    const history = await api.json<{ runs: { runId: string; status: string }[] }>('/api/history');
    expect(history.runs[0]).toMatchObject({ runId: firstRun, status: 'finished' });
  });

  it('saves a PNG that carries the workflow: parsing it back gives an equal document', async () => {
    const run = await api.json<{ files: string[]; workflow: unknown }>(`/api/history/${firstRun}`);
    const bytes = new Uint8Array(
      await (await api.fetch(`/api/outputs/${encodeURIComponent(run.files[0]!)}`)).arrayBuffer(),
    );
    const text = readPngText(bytes);
    expect(Object.keys(text)).toContain('workflow');
    const back = JSON.parse(text.workflow!) as unknown;
    expect(back).toEqual(run.workflow);
    const original = validateWorkflow(txt2img({ prompt, steps: 3 }), catalog);
    const parsed = validateWorkflow(back, catalog);
    expect(parsed.ok && original.ok).toBe(true);
    if (parsed.ok && original.ok) expect(parsed.workflow).toEqual(original.workflow);
    const viaApi = await api.fetch('/api/workflow-from-png', {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: bytes,
    });
    expect(((await viaApi.json()) as { workflow: unknown }).workflow).toEqual(back);
  });

  it('re-runs only Encode Prompt and its dependants when the prompt changes; the rest is cached', async () => {
    const runId = await api.queue(txt2img({ prompt: 'a blue heron at dawn', steps: 3 }));
    await finished(watcher, runId);
    expect(new Set(nodesWith(watcher, runId, 'nodeStarted'))).toEqual(new Set(['prompt', 'denoise', 'decode', 'save']));
    expect(new Set(nodesWith(watcher, runId, 'nodeCached'))).toEqual(new Set(['model', 'latent']));
  });
});
