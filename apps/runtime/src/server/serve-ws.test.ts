import { decodePreviewFrame } from '@sdflow/nodes/protocol/preview-frame.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { txt2imgWorkflow } from '../executor/test/txt2img-workflow.ts';
import { startTestServer, type TestServer } from './test/test-server.ts';
import { TestClient } from './test/ws-test-client.ts';

// The WebSocket side of serve() over the fake backend: broadcast, snapshots, previews, hostile frames, access.

describe('serve: WebSocket', () => {
  let s: TestServer;
  let ws: string;
  beforeAll(async () => {
    s = await startTestServer({ stepMs: 5, limits: { maxMessageBytes: 16 * 1024, maxFrameBytes: 256 * 1024 } });
    ws = `${s.url.replace('http', 'ws')}/ws`;
  });
  afterAll(() => s.stop());

  it('greets with hello and a snapshot, and lets a second client follow a run queued over HTTP', async () => {
    const watcher = await TestClient.connect(ws);
    await watcher.waitForMessage((m) => m.type === 'snapshot', 'snapshot');
    expect(watcher.messages[0]).toMatchObject({ type: 'hello', protocolVersion: 1 });
    const res = await fetch(`${s.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workflow: txt2imgWorkflow({ steps: 3, prompt: 'followed' }) }),
    });
    const { runId } = (await res.json()) as { runId: string };
    const done = await watcher.waitForMessage((m) => m.type === 'runFinished' && m.runId === runId, 'runFinished');
    expect(done.files).toHaveLength(1);
    const types = watcher.ofRun(runId).map((m) => m.type);
    expect(types).toContain('runStarted');
    expect(types.filter((t) => t === 'nodeProgress').length).toBeGreaterThanOrEqual(3);
    const previews = watcher.binary.map((b) => decodePreviewFrame(b)).filter((r) => r.ok && r.frame.runId === runId);
    expect(previews.length).toBeGreaterThan(0);
    const first = previews[0]!;
    expect(first.ok && first.frame).toMatchObject({ nodeId: 'denoise', mime: 'image/jpeg' });
    await watcher.close();
  });

  it('answers queueRun with ack or validationFailed, echoing requestId', async () => {
    const c = await TestClient.connect(ws);
    c.send({ type: 'queueRun', workflow: { version: 1, nodes: { x: { type: 'nope' } } }, requestId: 'bad' });
    const failed = await c.waitForMessage((m) => m.requestId === 'bad', 'validationFailed');
    expect(failed).toMatchObject({ type: 'validationFailed' });
    expect((failed.problems as { nodeId?: string }[])[0]?.nodeId).toBe('x');
    c.send({ type: 'queueRun', workflow: txt2imgWorkflow({ steps: 2 }), requestId: 'good' });
    const ack = await c.waitForMessage((m) => m.requestId === 'good', 'ack');
    expect(ack).toMatchObject({ type: 'ack', runId: expect.any(String) });
    await c.waitForMessage((m) => m.type === 'runFinished' && m.runId === ack.runId, 'runFinished');
    await c.close();
  });

  it('answers every malformed or hostile frame with an error and keeps serving', async () => {
    const c = await TestClient.connect(ws);
    await c.waitForMessage((m) => m.type === 'snapshot', 'snapshot');
    const hostile: (string | Buffer)[] = [
      '{not json',
      '',
      'null',
      '[]',
      '42',
      JSON.stringify({ type: 'launchMissiles' }),
      JSON.stringify({ type: 'interrupt', runId: 7 }),
      JSON.stringify({ type: 'queueRun', targets: 'all' }),
      JSON.stringify({ type: 'subscribe', runIds: [1, 2] }),
      JSON.stringify({ type: 'getSnapshot', requestId: 'x'.repeat(500) }),
      JSON.stringify({ type: 'queueRun', workflow: { pad: 'x'.repeat(20 * 1024) } }),
      JSON.stringify({ type: '__proto__', __proto__: { polluted: true } }),
      Buffer.from([0xde, 0xad, 0xbe, 0xef]),
    ];
    const before = c.messages.length;
    for (const frame of hostile) c.ws.send(frame, { binary: Buffer.isBuffer(frame) });
    await c.waitFor(() => (c.messages.length - before >= hostile.length ? true : undefined), 'an answer to each frame');
    const answers = c.messages.slice(before);
    expect(answers.map((m) => m.type)).toEqual(hostile.map(() => 'error'));
    expect(answers.every((m) => typeof m.message === 'string' && m.message.length > 0)).toBe(true);
    c.send({ type: 'queueRun', workflow: txt2imgWorkflow({ steps: 2, prompt: 'after hostility' }), requestId: 'r' });
    const ack = await c.waitForMessage((m) => m.type === 'ack' && m.requestId === 'r', 'ack');
    await c.waitForMessage((m) => m.type === 'runFinished' && m.runId === ack.runId, 'runFinished');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await c.close();
  });

  it('closes a socket that sends a frame beyond the hard cap (1009) and serves other clients', async () => {
    const c = await TestClient.connect(ws);
    c.ws.send('x'.repeat(300 * 1024));
    await c.waitFor(() => c.closed, 'close');
    expect(c.closed?.code).toBe(1009);
    const other = await TestClient.connect(ws);
    await other.waitForMessage((m) => m.type === 'snapshot', 'snapshot');
    await other.close();
  });

  it('gives a reconnecting client the running run with node progress, and interrupts it over the socket', async () => {
    const a = await TestClient.connect(ws);
    a.send({ type: 'queueRun', workflow: txt2imgWorkflow({ steps: 400, prompt: 'long' }), requestId: 'long' });
    const ack = await a.waitForMessage((m) => m.type === 'ack', 'ack');
    await a.waitForMessage(
      (m) => m.type === 'nodeProgress' && m.runId === ack.runId && (m.value as number) >= 3,
      'progress',
    );
    const b = await TestClient.connect(ws);
    const snap = await b.waitForMessage((m) => m.type === 'snapshot', 'snapshot');
    const running = snap.running as { runId: string; nodeStates: Record<string, { status: string; value?: number }> };
    expect(running.runId).toBe(ack.runId);
    expect(running.nodeStates.denoise).toMatchObject({ status: 'running' });
    expect(running.nodeStates.denoise?.value).toBeGreaterThanOrEqual(3);
    expect(running.nodeStates.model?.status).toMatch(/finished|cached/);
    b.send({ type: 'interrupt', requestId: 'stop' });
    await b.waitForMessage((m) => m.type === 'runInterrupted' && m.runId === ack.runId, 'runInterrupted');
    b.send({ type: 'interrupt', runId: 'no-such-run', requestId: 'ghost' });
    expect(await b.waitForMessage((m) => m.requestId === 'ghost', 'error')).toMatchObject({ type: 'error' });
    await Promise.all([a.close(), b.close()]);
  });

  it('checks the Origin on upgrades: own host and no Origin pass, others get 403', async () => {
    expect(await TestClient.upgradeStatus(ws)).toBe(101);
    expect(await TestClient.upgradeStatus(ws, { origin: s.url })).toBe(101);
    expect(await TestClient.upgradeStatus(ws, { origin: 'http://evil.example' })).toBe(403);
    expect(await TestClient.upgradeStatus(ws, { origin: `http://127.0.0.1:${s.port + 1}` })).toBe(403);
    expect(await TestClient.upgradeStatus(`${s.url.replace('http', 'ws')}/elsewhere`)).toBe(404);
  });
});

describe('serve: WebSocket with a token', () => {
  it('refuses upgrades without the token', async () => {
    const s = await startTestServer({ token: 'a-long-enough-token' });
    try {
      const ws = `${s.url.replace('http', 'ws')}/ws`;
      expect(await TestClient.upgradeStatus(ws)).toBe(401);
      expect(await TestClient.upgradeStatus(`${ws}?token=wrong-token-here`)).toBe(401);
      expect(await TestClient.upgradeStatus(`${ws}?token=a-long-enough-token`)).toBe(101);
      expect(await TestClient.upgradeStatus(ws, { headers: { authorization: 'Bearer a-long-enough-token' } })).toBe(
        101,
      );
    } finally {
      await s.stop();
    }
  });
});
