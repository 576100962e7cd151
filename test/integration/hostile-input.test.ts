import { readdir } from 'node:fs/promises';
import { TestClient } from '@sdflow/runtime/server/test/ws-test-client.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, finished } from './helpers/api.ts';
import { makeDirs, runToExit, type ServerProcess, startServer } from './helpers/server-process.ts';
import { txt2img } from './helpers/workflows.ts';

// 500 malformed or hostile WebSocket frames and HTTP requests against a real server started with a token:
// each gets an error answer, and the server then completes a real run.

const TOKEN = 'integration-token-0123456789';
const MAX_MESSAGE = 4 * 1024 * 1024; // the server's default WebSocket message cap

/** Hostile text frames, cycling through the kinds of trouble. */
function hostileFrames(n: number): string[] {
  const kinds: ((i: number) => string)[] = [
    (i) => `{"type": "queueRun", "workflow": ${i}`, // truncated JSON
    (i) => `not json at all ${i}`,
    () => '',
    () => 'null',
    (i) => `[${i}]`,
    (i) => JSON.stringify({ type: `launchMissiles${i}` }),
    (i) => JSON.stringify({ type: 'interrupt', runId: i }),
    () => JSON.stringify({ type: 'subscribe', runIds: 'all' }),
    () => JSON.stringify({ type: 'queueRun', targets: { a: 1 } }),
    () => JSON.stringify({ type: 'queueRun', workflow: { version: 1, nodes: { a: { type: 'noSuchNode' } } } }),
    () => JSON.stringify({ type: 'queueRun', workflow: 'DROP TABLE runs' }),
    () => JSON.stringify({ type: 'getSnapshot', requestId: 'r'.repeat(5000) }),
    () => JSON.stringify({ type: 42 }),
    () => JSON.stringify({ kind: 'queueRun' }),
    () => '{"__proto__": {"polluted": true}, "type": "evil"}',
    (i) => JSON.stringify({ type: 'interrupt', runId: `no-such-run-${i}` }),
  ];
  return Array.from({ length: n }, (_, i) => kinds[i % kinds.length]!(i));
}

describe('serve: hostile input', () => {
  let dirs: Awaited<ReturnType<typeof makeDirs>>;
  let server: ServerProcess;
  let api: Api;

  beforeAll(async () => {
    dirs = await makeDirs();
    server = await startServer(dirs, ['--token', TOKEN]);
    api = new Api(server.url, TOKEN);
  });
  afterAll(async () => {
    await server?.stop();
    await dirs?.remove();
  });

  it('refuses to listen beyond loopback without a token', async () => {
    const r = await runToExit(['serve', '--host', '0.0.0.0', '--port', '0', '--models', dirs.models]);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/token/);
  });

  it('answers 500 malformed or hostile frames and requests with errors, then completes a real run', async () => {
    let answered = 0;
    const ws = await TestClient.connect(api.wsUrl);
    await ws.waitForMessage((m) => m.type === 'snapshot', 'snapshot');

    // WebSocket: 320 text frames, 10 binary frames, 5 over the message cap; one answer each.
    const frames = hostileFrames(320);
    const from = ws.messages.length;
    for (const f of frames) ws.ws.send(f);
    for (let i = 0; i < 10; i++) ws.ws.send(Buffer.from([0xff, 0x00, i]), { binary: true });
    for (let i = 0; i < 5; i++) ws.ws.send(`"${'x'.repeat(MAX_MESSAGE)}"`);
    const expected = frames.length + 15;
    await ws.waitFor(() => (ws.messages.length - from >= expected ? true : undefined), `${expected} answers`);
    const answers = ws.messages.slice(from, from + expected);
    for (const a of answers) {
      expect(['error', 'validationFailed']).toContain(a.type);
      expect(typeof a.message === 'string' || Array.isArray(a.problems)).toBe(true);
    }
    answered += answers.length;
    expect(answers.slice(-5).every((a) => a.type === 'error' && /exceeds/.test(a.message as string))).toBe(true);

    // WebSocket upgrades: wrong Origin (403), no token (401), wrong token (401).
    const wsBase = `${server.url.replace('http', 'ws')}/ws`;
    for (let i = 0; i < 10; i++) {
      expect(await TestClient.upgradeStatus(api.wsUrl, { origin: `http://evil${i}.example` })).toBe(403);
      expect(await TestClient.upgradeStatus(wsBase)).toBe(401);
      expect(await TestClient.upgradeStatus(`${wsBase}?token=wrong-${i}-token`)).toBe(401);
      answered += 3;
    }

    // HTTP: each answer is a 4xx with a JSON error.
    const requests: (() => Promise<Response>)[] = [];
    const json = { 'content-type': 'application/json' };
    for (let i = 0; i < 25; i++) {
      requests.push(() => api.fetch('/api/runs', { method: 'POST', headers: json, body: `{"workflow": ${i}` }));
      requests.push(() => api.post('/api/runs', { workflow: { version: 1, nodes: { [`n${i}`]: { type: 'x' } } } }));
      requests.push(() => api.post('/api/runs', [i]));
      requests.push(() => api.post('/api/interrupt', { runId: i }));
      requests.push(() => api.fetch(`/api/outputs/..%2F..%2Fetc%2Fpasswd${i}`));
      requests.push(() => api.fetch(`/api/outputs/%2Fetc%2Fhosts${i}.png`));
      requests.push(() => api.fetch(`/api/outputs/notes${i}.txt`));
      requests.push(() => api.fetch('/api/queue', { headers: { origin: `https://evil${i}.example` } }));
      requests.push(() => fetch(`${server.url}/api/queue`));
      requests.push(() => fetch(`${server.url}/api/history`, { headers: { authorization: `Bearer nope-${i}` } }));
      requests.push(() => api.fetch(`/api/no-such-route-${i}`));
      requests.push(() =>
        api.fetch('/api/runs', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }),
      );
    }
    for (let i = 0; i < 5; i++) {
      // Files may be written only into the output folder: names with folders are refused before anything runs.
      const escaping = txt2img({ prefix: `../../escape${i}` });
      requests.push(() => api.post('/api/runs', { workflow: escaping }));
      const load = { version: 1, nodes: { l: { type: 'loadLatent', params: { file: `../../../etc/passwd${i}` } } } };
      requests.push(() => api.post('/api/runs', { workflow: load }));
    }
    for (let i = 0; i < 3; i++) {
      requests.push(() => api.fetch('/api/runs', { method: 'POST', headers: json, body: 'x'.repeat(5 * 1024 * 1024) }));
      requests.push(() =>
        api.fetch('/api/workflow-from-png', {
          method: 'POST',
          headers: { 'content-type': 'image/png' },
          body: 'not a png',
        }),
      );
    }
    for (const send of requests) {
      const res = await send();
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const body = (await res.json()) as { error?: { message?: string } };
      expect(body.error?.message).toBeTruthy();
      answered += 1;
    }
    expect(answered).toBeGreaterThanOrEqual(500);

    // A frame beyond the hard cap closes that socket (1009); the server keeps serving.
    const big = await TestClient.connect(api.wsUrl);
    big.ws.send('x'.repeat(17 * 1024 * 1024));
    await big.waitFor(() => big.closed, 'close');
    expect(big.closed?.code).toBe(1009);

    // Then a real run, queued on the same socket that sent the garbage, completes.
    ws.send({ type: 'queueRun', workflow: txt2img({ steps: 2 }), requestId: 'real' });
    const ack = await ws.waitForMessage((m) => m.type === 'ack' && m.requestId === 'real', 'ack');
    const end = await finished(ws, ack.runId as string);
    expect(end.files).toHaveLength(1);
    await ws.close();
    // Nothing but its folders and the job store (the data folder defaults to the cache folder's parent).
    const written = (await readdir(dirs.root)).filter((n) => !/^jobs\.sqlite(-wal|-shm)?$/.test(n));
    expect(written.sort()).toEqual(['cache', 'input', 'models', 'output']);
    expect((await readdir(dirs.output)).every((f) => f.startsWith('it_'))).toBe(true);
  });
});
