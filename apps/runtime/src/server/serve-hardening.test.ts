import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { txt2imgWorkflow } from '../executor/test/txt2img-workflow.ts';
import { startTestServer, type TestServer } from './test/test-server.ts';
import { TestClient } from './test/ws-test-client.ts';

// Findings of the hostile audit (issue 16) against a real server on a real socket: each answer a 4xx that names
// the problem, never a 5xx; exact Origin and Host checks; outputs not embeddable by other sites; fair client slots.

/** A raw request (fetch would normalise the path and refuse odd Host headers). */
function raw(
  url: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const nested = (levels: number) =>
  `{"workflow": {"version": 1, "nodes": {"a": {"type": "emptyLatent", "params": {"width": ${'['.repeat(levels)}${']'.repeat(levels)}}}}}}`;

describe('serve: hardening', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ limits: { maxClients: 4 } });
  });
  afterAll(() => s.stop());

  it.each(['/api/runs', '/api/validate'])('answers 400 to JSON nested 20,000 levels deep on %s', async (route) => {
    const r = await raw(s.url, {
      method: 'POST',
      path: route,
      headers: { 'content-type': 'application/json' },
      body: nested(20_000),
    });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toEqual({
      code: 'tooDeep',
      message: expect.stringMatching(/^request body refused: JSON nests deeper than 64 levels \(at character \d+\)$/),
    });
  });

  it('answers a WebSocket command nested 20,000 levels deep with an error', async () => {
    const ws = await TestClient.connect(`${s.url.replace('http', 'ws')}/ws`);
    await ws.waitForMessage((m) => m.type === 'snapshot', 'snapshot');
    ws.send(`{"type": "queueRun", "workflow": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`);
    const e = await ws.waitForMessage((m) => m.type === 'error', 'error');
    expect(e.message).toMatch(/^bad command: JSON nests deeper than 64 levels/);
    ws.ws.close();
  });

  it.each(['%ZZ', '%E0%A4%A', '%C0%AF', '%u0041'])('answers 400 naming malformed percent-encoding %s', async (bad) => {
    for (const route of ['/api/history/', '/api/outputs/']) {
      const r = await raw(s.url, { path: `${route}${bad}` });
      expect(r.status, `${route}${bad}`).toBe(400);
      const { error } = JSON.parse(r.body) as { error: { code: string; message: string } };
      expect(error.message).toContain(bad);
      expect(error.message).toMatch(/not valid (URL|percent-)encoding/);
    }
  });

  it("refuses an Origin with another scheme than the server's own, and a Host with userinfo", async () => {
    const port = new URL(s.url).port;
    const https = await raw(s.url, { path: '/api/health', headers: { origin: `https://127.0.0.1:${port}` } });
    expect(https.status).toBe(403);
    const own = await raw(s.url, { path: '/api/health', headers: { origin: `http://127.0.0.1:${port}` } });
    expect(own.status).toBe(200);
    const userinfo = await raw(s.url, { path: '/api/health', headers: { host: `127.0.0.1:${port}@evil.example` } });
    expect(userinfo.status).toBe(400);
    expect(JSON.parse(userinfo.body).error.code).toBe('badHost');
    const ws = `${s.url.replace('http', 'ws')}/ws`;
    expect(await TestClient.upgradeStatus(ws, { origin: `https://127.0.0.1:${port}` })).toBe(403);
    expect(await TestClient.upgradeStatus(ws, { headers: { host: `127.0.0.1:${port}@evil.example` } })).toBe(400);
  });

  it('serves outputs as same-origin resources, with no CORS headers', async () => {
    await writeFile(path.join(s.dirs.output, 'shot.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
    const r = await raw(s.url, { path: '/api/outputs/shot.png', headers: { 'sec-fetch-site': 'cross-site' } });
    expect(r.status).toBe(200);
    expect(r.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const list = await raw(s.url, { path: '/api/outputs' });
    expect(list.headers['cross-origin-resource-policy']).toBe('same-origin');
  });

  it('refuses a run too large to fit before queueing it, giving the estimate and the limit', async () => {
    const wf = txt2imgWorkflow({ size: 8192, steps: 30 });
    const r = await raw(s.url, {
      method: 'POST',
      path: '/api/runs',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workflow: wf }),
    });
    expect(r.status).toBe(400);
    const body = JSON.parse(r.body) as { problems: { code: string; nodeId: string; message: string }[] };
    expect(body.problems[0]).toMatchObject({ code: 'runTooLarge', nodeId: 'decode' });
    expect(body.problems[0]!.message).toMatch(/needs about \d+ GiB .* 48 GiB limit/);
    const queue = JSON.parse((await raw(s.url, { path: '/api/queue' })).body) as { queue: unknown[] };
    expect(queue.queue).toEqual([]);
  });

  it('names a model that is not in the models folder at validation, listing those that are', async () => {
    const post = (route: string, workflow: unknown) =>
      raw(s.url, {
        method: 'POST',
        path: route,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ workflow }),
      });
    const wf = txt2imgWorkflow({ model: 'not-here', size: 32 });
    const validated = JSON.parse((await post('/api/validate', wf)).body) as { ok: boolean; problems: unknown[] };
    expect(validated.ok).toBe(false);
    expect(validated.problems).toEqual([
      expect.objectContaining({ code: 'unknownModel', nodeId: 'model', param: 'model' }),
    ]);
    expect((validated.problems[0] as { message: string }).message).toMatch(/"not-here".*"tiny"/);
    const queued = await post('/api/runs', wf);
    expect(queued.status).toBe(400);
    expect(queued.body).not.toContain(s.dirs.root);
    expect(
      (JSON.parse((await post('/api/validate', txt2imgWorkflow({ model: 'tiny', size: 32 }))).body) as { ok: boolean })
        .ok,
    ).toBe(true);
  });

  it('keeps the editor able to connect while scripts hold every client slot', async () => {
    const ws = `${s.url.replace('http', 'ws')}/ws`;
    const origin = s.url;
    const scripts = await Promise.all([0, 1, 2, 3].map(() => TestClient.connect(ws)));
    await Promise.all(scripts.map((c) => c.waitForMessage((m) => m.type === 'snapshot', 'snapshot')));
    // The first script stays busy; the others sit quiet. The editor takes the slot of the quietest one.
    const from = scripts[0]!.messages.length;
    scripts[0]!.send({ type: 'getSnapshot' });
    await scripts[0]!.waitForMessage((m) => m.type === 'snapshot', 'answer', from);
    const editor = await TestClient.connect(ws, { origin });
    await editor.waitForMessage((m) => m.type === 'hello', 'hello');
    const gone = await scripts[1]!.waitFor(() => scripts[1]!.closed, 'the quietest script closed');
    expect(gone.code).toBe(1013);
    expect(gone.reason).toMatch(/client slots are taken/);
    expect(scripts[0]!.closed).toBeUndefined();
    // A newcomer script also gets in, at the next quietest script's expense; the editor keeps its slot.
    const late = await TestClient.connect(ws);
    await late.waitForMessage((m) => m.type === 'hello', 'hello');
    await scripts[2]!.waitFor(() => scripts[2]!.closed, 'the next quietest script closed');
    expect(editor.closed).toBeUndefined();
    for (const c of [...scripts, editor, late]) c.ws.close();
  });
});
