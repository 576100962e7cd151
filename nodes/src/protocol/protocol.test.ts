import { describe, expect, it } from 'vitest';
import { createChannelPair, type ServerMessage } from './channel.ts';
import { type ClientCommand, parseClientCommand } from './commands.ts';
import { PROTOCOL_VERSION, parseServerEvent, type ServerEvent, ServerEvent as ServerEventSchema } from './events.ts';
import { decodePreviewFrame, encodePreviewFrame } from './preview-frame.ts';

describe('commands', () => {
  it('parses every command, with optional requestId', () => {
    const commands: ClientCommand[] = [
      { type: 'queueRun', workflow: { version: 1, nodes: {} }, clientId: 'c1', requestId: 'q1' },
      { type: 'interrupt', runId: 'r1' },
      { type: 'interrupt' },
      { type: 'clearQueue', requestId: 'x' },
      { type: 'getSnapshot' },
      { type: 'subscribe', runIds: ['r1'] },
    ];
    for (const c of commands) expect(parseClientCommand(JSON.stringify(c))).toEqual({ ok: true, value: c });
  });

  it('answers hostile frames with a reason instead of throwing', () => {
    const frames = [
      '',
      '{',
      'null',
      '[]',
      '"queueRun"',
      '{"type":"rm -rf"}',
      '{"type":"interrupt","runId":5}',
      '{"type":"subscribe","runIds":"all"}',
    ];
    for (const f of frames) {
      const r = parseClientCommand(f);
      expect(r.ok, f).toBe(false);
      if (!r.ok) expect(r.error.length).toBeGreaterThan(0);
    }
  });
});

describe('server events', () => {
  it('round-trips session and run events', () => {
    const events: ServerEvent[] = [
      { type: 'hello', protocolVersion: PROTOCOL_VERSION, catalogVersion: 'abc' },
      { type: 'ack', requestId: 'q1', runId: 'r1' },
      {
        type: 'validationFailed',
        requestId: 'q1',
        problems: [{ code: 'missingInput', message: 'm', nodeId: 'a', port: 'clip' }],
      },
      { type: 'error', message: 'frame too large' },
      { type: 'queueCleared', runIds: ['r2'] },
      { type: 'nodeProgress', runId: 'r1', nodeId: 'd', value: 3, max: 30 },
      { type: 'nodeFinished', runId: 'r1', nodeId: 'd', wallMs: 12, files: [] },
      {
        type: 'snapshot',
        queue: [{ runId: 'r3', queuedAt: 1 }],
        running: {
          runId: 'r1',
          queuedAt: 0,
          startedAt: 1,
          nodes: ['a', 'd'],
          nodeStates: { a: { status: 'cached', files: [] }, d: { status: 'running', value: 3, max: 30, files: [] } },
        },
        active: [{ runId: 'r1', queuedAt: 0, startedAt: 1, nodes: [], nodeStates: {}, worker: 'local-1', attempts: 2 }],
        history: [{ runId: 'r0', queuedAt: 0, finishedAt: 5, status: 'finished', files: ['x.png'], nodeStates: {} }],
      },
      { type: 'historyDeleted', runIds: ['r0'] },
      { type: 'serverStopping', graceMs: 10_000 },
    ];
    for (const e of events) expect(parseServerEvent(JSON.stringify(e))).toEqual({ ok: true, value: e });
    const types = ServerEventSchema.options.map((o) => o.shape.type.value);
    expect(new Set(types).size).toBe(types.length);
  });
});

describe('in-memory channel pair', () => {
  it('delivers in order, asynchronously, copies messages and closes both ends', async () => {
    const [client, server] = createChannelPair<ClientCommand, ServerMessage>();
    const got: ClientCommand[] = [];
    server.onMessage((m) => got.push(m));
    const command = { type: 'subscribe' as const, runIds: ['a'] };
    client.send(command);
    client.send({ type: 'getSnapshot' });
    expect(got).toEqual([]);
    await Promise.resolve();
    expect(got).toEqual([command, { type: 'getSnapshot' }]);
    expect(got[0]).not.toBe(command);

    const frames: ServerMessage[] = [];
    client.onMessage((m) => frames.push(m));
    const decoded = decodePreviewFrame(
      encodePreviewFrame({ runId: 'r', nodeId: 'n', mime: 'image/png' }, Uint8Array.of(1, 2)),
    );
    if (!decoded.ok) throw new Error(decoded.error);
    server.send(decoded.frame);
    server.send({ type: 'hello', protocolVersion: 1, catalogVersion: 'v' });
    await Promise.resolve();
    expect(frames.map((f) => f.type)).toEqual(['preview', 'hello']);
    expect(frames[0]).toMatchObject({ type: 'preview', image: Uint8Array.of(1, 2) });

    const reasons: string[] = [];
    server.onClose((r) => reasons.push(r));
    client.close('bye');
    expect(client.closed).toBe(true);
    expect(() => client.send({ type: 'getSnapshot' })).toThrow('closed');
    await Promise.resolve();
    expect(server.closed).toBe(true);
    expect(reasons).toEqual(['bye']);
  });
});
