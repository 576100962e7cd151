import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { txt2imgWorkflow } from '../executor/test/txt2img-workflow.ts';
import { serve } from './serve.ts';
import { startTestServer, type TestServer } from './test/test-server.ts';

// The HTTP side of serve() over the fake backend: routes, validation, caps, file serving, access checks.

describe('serve: HTTP API', () => {
  let s: TestServer;
  const api = (p: string, init?: RequestInit) => fetch(`${s.url}${p}`, init);
  const postJson = (p: string, body: unknown, headers: Record<string, string> = {}) =>
    api(p, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    s = await startTestServer({ limits: { maxQueue: 3, maxBodyBytes: 64 * 1024, maxUploadBytes: 64 * 1024 } });
  });
  afterAll(() => s.stop());

  it('serves the catalogue with JSON Schema params and a version', async () => {
    const res = await api('/api/catalog');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      version: string;
      catalogVersion: string;
      nodeTypes: Record<string, { params: unknown }>;
    };
    expect(body.catalogVersion).toBe(body.version);
    expect(Object.keys(body.nodeTypes)).toContain('unetDenoise');
    expect(body.nodeTypes.unetDenoise!.params).toMatchObject({ type: 'object' });
  });

  it('lists models: the models folder plus the built-in test and benchmark models, labelled as such', async () => {
    const { models } = (await (await api('/api/models')).json()) as { models: { id: string; isTestModel: boolean }[] };
    // The same list validation accepts: a seed workflow naming sdxl-base-random is not "not found" in the editor.
    expect(models.map((m) => m.id)).toEqual(['tiny', 'sdxl-base-random', 'default']);
    expect(models.find((m) => m.id === 'sdxl-base-random')?.isTestModel).toBe(true);
    expect(models.find((m) => m.id === 'default')?.isTestModel).toBe(true);
    expect(models.find((m) => m.id === 'tiny')?.isTestModel).toBe(false);
  });

  it('offers the example workflows of workflows/', async () => {
    const { workflows } = (await (await api('/api/workflows')).json()) as {
      workflows: { name: string; workflow: unknown }[];
    };
    expect(workflows.map((w) => w.name)).toContain('text-to-image');
    expect(workflows.find((w) => w.name === 'text-to-image')?.workflow).toMatchObject({ version: 1 });
  });

  it('queues a valid workflow (202) and reports it in queue and history', async () => {
    const res = await postJson('/api/runs', { workflow: txt2imgWorkflow({ steps: 2 }) });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    for (let i = 0; i < 200; i++) {
      const run = (await (await api(`/api/history/${runId}`)).json()) as { status: string };
      if (run.status === 'finished') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const run = (await (await api(`/api/history/${runId}`)).json()) as {
      status: string;
      workflow: unknown;
      files: string[];
    };
    expect(run.status).toBe('finished');
    expect(run.workflow).toMatchObject({ version: 1 });
    expect(run.files.length).toBe(1);
    const history = (await (await api('/api/history')).json()) as { runs: { runId: string }[] };
    expect(history.runs[0]?.runId).toBe(runId);
    const queue = (await (await api('/api/queue')).json()) as { queue: unknown[]; running: unknown };
    expect(queue).toMatchObject({ queue: [], running: null, maxQueue: 3 });
  });

  it('answers 400 with every validation problem, per node', async () => {
    const wf = txt2imgWorkflow();
    (wf.nodes.denoise!.params as Record<string, unknown>).steps = -3;
    (wf.nodes.decode!.inputs as Record<string, unknown>).latent = { node: 'nowhere', output: 'latent' };
    wf.nodes.extra = { type: 'noSuchType', params: {}, inputs: {} };
    const res = await postJson('/api/runs', { workflow: wf });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { problems: { nodeId?: string; code: string }[] };
    expect(new Set(body.problems.map((p) => p.nodeId))).toEqual(new Set(['denoise', 'decode', 'extra']));
    const checked = (await (await postJson('/api/validate', { workflow: wf })).json()) as {
      ok: boolean;
      problems: unknown[];
    };
    expect(checked).toEqual({ ok: false, problems: body.problems });
    expect(await (await postJson('/api/validate', { workflow: txt2imgWorkflow() })).json()).toEqual({
      ok: true,
      problems: [],
    });
  });

  it('refuses bodies that are too large, not JSON, of the wrong type or shape', async () => {
    const big = await postJson('/api/runs', { workflow: txt2imgWorkflow(), pad: 'x'.repeat(70 * 1024) });
    expect(big.status).toBe(413);
    const notJson = await api('/api/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{oops',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('badJson');
    const plain = await api('/api/runs', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(plain.status).toBe(415);
    const shape = await postJson('/api/interrupt', { runId: 42 });
    expect(shape.status).toBe(400);
    expect((await api('/api/runs')).status).toBe(405);
    expect((await api('/api/nothing')).status).toBe(404);
  });

  it('caps the queue with a clear error', async () => {
    const slow = txt2imgWorkflow({ steps: 400, prompt: 'slow' });
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await postJson('/api/runs', { workflow: slow })).status);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThan(0);
    const cleared = (await (await api('/api/queue/clear', { method: 'POST' })).json()) as { runIds: string[] };
    expect(cleared.runIds.length).toBeGreaterThan(0);
    expect(((await (await postJson('/api/interrupt', {})).json()) as { interrupted: boolean }).interrupted).toBe(true);
    const unknown = await postJson('/api/interrupt', { runId: 'nope' });
    expect(unknown.status).toBe(404);
  });

  it('serves output images only: no traversal, absolute paths, escaping links or other file types', async () => {
    await writeFile(path.join(s.dirs.output, 'ok_1.png'), 'png bytes');
    await writeFile(path.join(s.dirs.root, 'secret.png'), 'secret');
    await symlink(path.join(s.dirs.root, 'secret.png'), path.join(s.dirs.output, 'link.png'));
    await writeFile(path.join(s.dirs.output, 'notes.txt'), 'text');
    const ok = await api('/api/outputs/ok_1.png');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/png');
    expect(await ok.text()).toBe('png bytes');
    const refused = [
      '..%2Fsecret.png',
      '%2E%2E%2Fsecret.png',
      '%2Fetc%2Fpasswd',
      'link.png',
      'notes.txt',
      'a%5C..%5Cb.png',
      'x%00.png',
    ];
    for (const name of refused) {
      const res = await api(`/api/outputs/${name}`);
      expect([400, 403, 404], name).toContain(res.status);
      expect(res.headers.get('content-type'), name).toContain('application/json');
      expect(await res.text()).not.toBe('secret');
    }
    expect((await api('/api/outputs/link.png')).status).toBe(403);
    const list = (await (await api('/api/outputs')).json()) as { files: { name: string }[] };
    expect(list.files.map((f) => f.name)).toContain('ok_1.png');
    expect(list.files.map((f) => f.name)).not.toContain('link.png');
  });

  it('reads the workflow from an uploaded PNG, capping the upload size', async () => {
    const plain = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const text = Buffer.from(`workflow\0${JSON.stringify(txt2imgWorkflow())}`, 'latin1');
    const head = Buffer.alloc(8);
    head.writeUInt32BE(text.length);
    head.write('tEXt', 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), text])) >>> 0);
    const withText = Buffer.concat([plain.subarray(0, 33), head, text, crc, plain.subarray(33)]);
    const upload = (body: Buffer) =>
      api('/api/workflow-from-png', { method: 'POST', headers: { 'content-type': 'image/png' }, body });
    expect(await (await upload(withText)).json()).toEqual({ workflow: txt2imgWorkflow() });
    expect((await upload(plain)).status).toBe(422);
    expect((await upload(Buffer.alloc(70 * 1024))).status).toBe(413);
  });

  it('serves a how-to-build page without an editor build, and the build when present', async () => {
    const page = await api('/');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('npm run build');
    await mkdir(path.join(s.dirs.editor, 'assets'), { recursive: true });
    await writeFile(path.join(s.dirs.editor, 'index.html'), '<!doctype html><title>editor</title>');
    await writeFile(path.join(s.dirs.editor, 'assets', 'app.js'), 'console.log(1)');
    expect(await (await api('/')).text()).toContain('<title>editor</title>');
    expect(await (await api('/some/route')).text()).toContain('<title>editor</title>');
    const js = await api('/assets/app.js');
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await api('/assets/../../secret.png')).status).not.toBe(200);
    expect((await api('/%2E%2E/secret.png')).status).toBe(404);
  });

  it('refuses foreign Origins and non-loopback Host headers on the API', async () => {
    const foreign = await postJson('/api/runs', { workflow: txt2imgWorkflow() }, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const own = await api('/api/queue', { headers: { origin: s.url } });
    expect(own.status).toBe(200);
    // fetch cannot set Host: a DNS-rebinding page would reach us with its own name in it.
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request(
        { port: s.port, host: '127.0.0.1', path: '/api/queue', headers: { host: `evil.example:${s.port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(rebound).toBe(421);
  });
});

describe('serve: token', () => {
  it('refuses a non-loopback host without a token', async () => {
    await expect(serve({ host: '0.0.0.0', port: 0, modelsDir: '.', outputDir: '.', cacheDir: '.' })).rejects.toThrow(
      /token/,
    );
  });

  it('requires the token on the API (Bearer, ?token= or the cookie set by opening the editor with it)', async () => {
    const s = await startTestServer({ token: 'correct horse battery' });
    try {
      expect((await fetch(`${s.url}/api/queue`)).status).toBe(401);
      expect((await fetch(`${s.url}/api/queue`, { headers: { authorization: 'Bearer wrong token' } })).status).toBe(
        401,
      );
      const bearer = await fetch(`${s.url}/api/queue`, { headers: { authorization: 'Bearer correct horse battery' } });
      expect(bearer.status).toBe(200);
      expect((await fetch(`${s.url}/api/queue?token=correct%20horse%20battery`)).status).toBe(200);
      const page = await fetch(`${s.url}/?token=correct%20horse%20battery`);
      const cookie = page.headers.get('set-cookie')!;
      expect(cookie).toContain('HttpOnly');
      const withCookie = await fetch(`${s.url}/api/queue`, { headers: { cookie: cookie.split(';')[0]! } });
      expect(withCookie.status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});
