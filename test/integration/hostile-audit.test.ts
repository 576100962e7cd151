import { realpath, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { TestClient } from '@sdflow/runtime/server/test/ws-test-client.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, runEnd } from './helpers/api.ts';
import { makeDirs, repoRoot, type ServerProcess, startServer } from './helpers/server-process.ts';
import { txt2img } from './helpers/workflows.ts';

// The hostile audit of issue 16, rerun against a real server process: every frame and request answered, never
// with a 5xx, no answer or broadcast naming a server path, runs too large refused up front and a large in-range
// run stopped soon after an interrupt. SDFLOW_AUDIT_SCALE multiplies the counts (17: the audit's 10,000 frames);
// SDFLOW_AUDIT_OUT names a file for the tallies.

const TOKEN = 'audit-token-0123456789abcdef';
const SCALE = Number(process.env.SDFLOW_AUDIT_SCALE ?? 1);
const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

interface Tally {
  frames: number;
  requests: number;
  unanswered: number;
  serverErrors: number;
  leaks: string[];
  crashed: boolean;
  refusedUpFront: number;
  interruptMs?: number;
}

function rawRequest(
  url: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string } | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const req = request(
      { hostname, port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.setTimeout(30_000, () => {
      req.destroy();
      resolve(undefined);
    });
    req.on('error', () => resolve(undefined));
    req.end(opts.body);
  });
}

describe('hostile audit (issue 16)', () => {
  let dirs: Awaited<ReturnType<typeof makeDirs>>;
  let server: ServerProcess;
  let api: Api;
  let paths: string[];
  const tally: Tally = {
    frames: 0,
    requests: 0,
    unanswered: 0,
    serverErrors: 0,
    leaks: [],
    crashed: false,
    refusedUpFront: 0,
  };
  const leakCheck = (where: string, text: string) => {
    for (const p of paths) if (text.includes(p)) tally.leaks.push(`${where}: ${text.slice(0, 200)}`);
  };

  beforeAll(async () => {
    dirs = await makeDirs();
    server = await startServer(dirs, ['--token', TOKEN]);
    api = new Api(server.url, TOKEN);
    paths = [...new Set([dirs.root, await realpath(dirs.root), repoRoot.replace(/\/$/, '')])];
  });
  afterAll(async () => {
    if (process.env.SDFLOW_AUDIT_OUT)
      await writeFile(process.env.SDFLOW_AUDIT_OUT, `${JSON.stringify(tally, null, 2)}\n`);
    await server?.stop();
    await dirs?.remove();
  });

  it('answers hostile frames and requests with 4xx errors, leaking no path, and refuses runs too large', async () => {
    const watcher = await TestClient.connect(api.wsUrl);
    const ws = await TestClient.connect(api.wsUrl);
    await ws.waitForMessage((m) => m.type === 'snapshot', 'snapshot');
    const kinds: ((i: number) => string)[] = [
      (i) => `{"type": "queueRun", "workflow": ${i}`,
      () => `{"type": "queueRun", "workflow": ${deep(20_000)}}`,
      () => JSON.stringify({ type: 'queueRun', workflow: JSON.parse('{"version": 1, "nodes": {"__proto__": {}}}') }),
      () => JSON.stringify({ type: 'queueRun', workflow: txt2img({ size: 8192 }) }),
      () => JSON.stringify({ type: 'queueRun', workflow: { version: 1, nodes: { a: { type: 'toString' } } } }),
      (i) => JSON.stringify({ type: 'interrupt', runId: `no-such-${i}` }),
      () => JSON.stringify({ type: 'subscribe', runIds: 'all' }),
      () => '{"__proto__": {"polluted": true}, "type": "evil"}',
    ];
    const frames = Array.from({ length: 600 * SCALE }, (_, i) => kinds[i % kinds.length]!(i));
    const from = ws.messages.length;
    for (const f of frames) ws.ws.send(f);
    await ws
      .waitFor(() => (ws.messages.length - from >= frames.length ? true : undefined), 'every frame answered', 120_000)
      .catch(() => undefined);
    const answers = ws.messages.slice(from);
    tally.frames = frames.length;
    tally.unanswered += Math.max(0, frames.length - answers.length);
    tally.refusedUpFront += answers.filter((a) => JSON.stringify(a).includes('runTooLarge')).length;
    for (const a of answers) leakCheck('ws', JSON.stringify(a));

    const json = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
    const auth = { authorization: `Bearer ${TOKEN}` };
    const port = String(server.port);
    const batchOf64 = txt2img({ size: 1024 });
    (batchOf64.nodes.latent!.params as Record<string, unknown>).batchSize = 64;
    const requests: Parameters<typeof rawRequest>[1][] = [];
    for (let i = 0; i < 30 * SCALE; i++) {
      requests.push(
        { method: 'POST', path: '/api/runs', headers: json, body: `{"workflow": {"width": ${deep(20_000)}}}` },
        { method: 'POST', path: '/api/validate', headers: json, body: `{"workflow": ${deep(20_000)}}` },
        { path: '/api/history/%ZZ', headers: auth },
        { path: '/api/history/%E0%A4%A', headers: auth },
        { path: '/api/outputs/%C0%AF', headers: auth },
        { path: '/api/outputs/%u0041', headers: auth },
        { path: '/api/health', headers: { ...auth, origin: `https://127.0.0.1:${port}` } },
        { path: '/api/health', headers: { ...auth, host: `127.0.0.1:${port}@evil.example` } },
        {
          method: 'POST',
          path: '/api/runs',
          headers: json,
          body: JSON.stringify({ workflow: txt2img({ size: 8192 }) }),
        },
        { method: 'POST', path: '/api/runs', headers: json, body: JSON.stringify({ workflow: batchOf64 }) },
        {
          method: 'POST',
          path: '/api/validate',
          headers: json,
          body: '{"workflow": {"version": 1, "nodes": {"__proto__": {}}}}',
        },
        { path: `/api/outputs/..%2F..%2Fetc%2Fpasswd${i}`, headers: auth },
      );
    }
    for (const r of requests) {
      const res = await rawRequest(server.url, r);
      tally.requests++;
      if (!res) {
        tally.unanswered++;
        continue;
      }
      if (res.status >= 500) tally.serverErrors++;
      if (res.body.includes('runTooLarge')) tally.refusedUpFront++;
      leakCheck(`${r.method ?? 'GET'} ${r.path}`, res.body);
    }

    // A model that is not there is refused before it is queued, by its name, with the models there, and no path.
    const refused = await api.post('/api/runs', {
      workflow: {
        version: 1,
        meta: {},
        nodes: {
          model: { type: 'loadModel', params: { model: 'nonexistent', device: 'cpu' }, inputs: {} },
          prompt: {
            type: 'encodePrompt',
            params: { prompt: 'x' },
            inputs: { clip: { node: 'model', output: 'clip' } },
          },
          latent: {
            type: 'emptyLatent',
            params: { width: 32, height: 32 },
            inputs: { vae: { node: 'model', output: 'vae' } },
          },
          save: { type: 'saveLatent', params: {}, inputs: { latent: { node: 'latent', output: 'latent' } } },
        },
      },
    });
    expect(refused.status).toBe(400);
    const refusal = await refused.text();
    expect(refusal).toContain('no model \\"nonexistent\\" in the models folder; available: \\"tiny\\"');
    leakCheck('POST /api/runs (unknown model)', refusal);
    for (const m of watcher.messages) leakCheck('broadcast', JSON.stringify(m));

    tally.crashed = server.child.exitCode !== null;
    expect(tally).toMatchObject({ unanswered: 0, serverErrors: 0, leaks: [], crashed: false });
    expect(tally.refusedUpFront).toBeGreaterThan(0);
    await ws.close();
    await watcher.close();
  });

  it('stops a large in-range run within a few seconds of an interrupt', async () => {
    const ws = await TestClient.connect(api.wsUrl);
    const runId = await api.queue(txt2img({ model: 'default', size: 768, steps: 30 }));
    // interrupted inside step 2, not before the loop's first UNet call
    const progress = (m: { type: string; runId?: unknown; nodeId?: unknown; value?: unknown }) =>
      m.type === 'nodeProgress' && m.runId === runId && m.nodeId === 'denoise' && Number(m.value) >= 1;
    await ws.waitForMessage(progress, 'a step', 0, 150_000);
    await new Promise((r) => setTimeout(r, 300)); // well inside the next UNet call
    const started = performance.now();
    await api.json('/api/interrupt', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const end = await runEnd(ws, runId);
    tally.interruptMs = Math.round(performance.now() - started);
    expect(end.type).toBe('runInterrupted');
    expect(tally.interruptMs).toBeLessThan(5_000);
    await ws.close();
  });
});
