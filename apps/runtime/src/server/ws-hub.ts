import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { jsonDepthProblem } from '@sdflow/nodes/graph/json-depth.ts';
import { type ClientCommand, parseClientCommand } from '@sdflow/nodes/protocol/commands.ts';
import { PROTOCOL_VERSION, type ServerEvent } from '@sdflow/nodes/protocol/events.ts';
import { encodePreviewFrame } from '@sdflow/nodes/protocol/preview-frame.ts';
import { type WebSocket, WebSocketServer } from 'ws';
import { formatBytes, type Limits } from './limits.ts';
import type { RunService, ServiceEvent } from './run-service.ts';

// The WebSocket endpoint: every incoming frame is parsed and answered (ack, snapshot, validationFailed or
// error); every client follows every run unless it narrowed its subscription; previews go as binary frames.

/** A client this far behind gets no previews until it catches up (events are never dropped). */
const PREVIEW_BACKLOG_BYTES = 4 * 1024 * 1024;
/** A client this far behind on events is disconnected. */
const STALLED_CLIENT_BYTES = 64 * 1024 * 1024;
const HEARTBEAT_MS = 30_000;

interface Client {
  readonly id: string;
  readonly ws: WebSocket;
  /** undefined = every run. */
  runIds: Set<string> | undefined;
  alive: boolean;
  /** Opened from a web page (it sent an Origin the server accepted): an editor tab, not a script. */
  readonly fromPage: boolean;
  /** When it last sent a frame (or connected): the quietest script makes room when every slot is taken. */
  heardAt: number;
}

export class WsHub {
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly off: () => void;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly service: RunService,
    private readonly limits: Limits,
    private readonly catalogVersion: string,
  ) {
    // maxPayload is the hard stop (the socket closes with 1009); maxMessageBytes below it is answered politely.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: Math.max(limits.maxFrameBytes, limits.maxMessageBytes),
    });
    this.off = service.on((e) => this.broadcast(e));
    this.heartbeat = setInterval(() => this.ping(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * Whether another client may connect. Slots are fair to editor tabs: while every slot is taken, a newcomer takes
   * the slot of the script (a connection without Origin) that has been quiet the longest, so local processes holding
   * connections can never lock the editor out; only a server full of editor tabs refuses.
   */
  get full(): boolean {
    return this.clients.size >= this.limits.maxClients && this.quietestScript() === undefined;
  }

  /** Completes an upgrade the caller has already authorized. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.clients.size >= this.limits.maxClients) {
      const victim = this.quietestScript();
      if (victim) {
        this.clients.delete(victim);
        // 1013 Try Again Later, with the reason: the script learns why it lost its slot.
        victim.ws.close(1013, `all ${this.limits.maxClients} client slots are taken; this quiet one made room`);
      }
    }
    const fromPage = req.headers.origin !== undefined;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, fromPage));
  }

  private quietestScript(): Client | undefined {
    let quietest: Client | undefined;
    for (const c of this.clients) {
      if (!c.fromPage && (quietest === undefined || c.heardAt < quietest.heardAt)) quietest = c;
    }
    return quietest;
  }

  private connected(ws: WebSocket, fromPage: boolean): void {
    const client: Client = {
      id: crypto.randomUUID(),
      ws,
      runIds: undefined,
      alive: true,
      fromPage,
      heardAt: performance.now(),
    };
    this.clients.add(client);
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) =>
      this.received(client, data, isBinary),
    );
    ws.on('close', () => this.clients.delete(client));
    // Frames beyond maxPayload: ws closes the socket with 1009 itself; nothing else to do but not crash.
    ws.on('error', () => this.clients.delete(client));
    this.send(client, {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      catalogVersion: this.catalogVersion,
      clientId: client.id,
    });
    this.send(client, { type: 'snapshot', ...this.service.snapshot() });
  }

  private received(client: Client, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    client.heardAt = performance.now();
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      this.send(client, { type: 'error', message: 'binary frames are not accepted: send commands as JSON text' });
      return;
    }
    if (bytes.length > this.limits.maxMessageBytes) {
      this.send(client, {
        type: 'error',
        message: `message of ${formatBytes(bytes.length)} exceeds the ${formatBytes(this.limits.maxMessageBytes)} limit`,
      });
      return;
    }
    const text = bytes.toString('utf8');
    const tooDeep = jsonDepthProblem(text);
    if (tooDeep) {
      this.send(client, { type: 'error', message: `bad command: ${tooDeep}` });
      return;
    }
    const parsed = parseClientCommand(text);
    if (!parsed.ok) {
      this.send(client, { type: 'error', message: `bad command: ${parsed.error}`, ...requestIdOf(bytes) });
      return;
    }
    this.handle(client, parsed.value).catch((err: unknown) => {
      const rid = parsed.value.requestId;
      this.send(client, {
        type: 'error',
        message: `${parsed.value.type} failed: ${err instanceof Error ? err.message : String(err)}`,
        ...(rid === undefined ? {} : { requestId: rid }),
      });
    });
  }

  private async handle(client: Client, cmd: ClientCommand): Promise<void> {
    const rid = cmd.requestId === undefined ? {} : { requestId: cmd.requestId };
    switch (cmd.type) {
      case 'queueRun': {
        const r = await this.service.queue(cmd.workflow, {
          clientId: cmd.clientId ?? client.id,
          ...(cmd.targets ? { targets: cmd.targets } : {}),
        });
        if (r.ok) this.send(client, { type: 'ack', requestId: cmd.requestId ?? 'queueRun', runId: r.runId });
        else if (r.kind === 'invalid') this.send(client, { type: 'validationFailed', ...rid, problems: r.problems });
        else this.send(client, { type: 'error', ...rid, message: r.message });
        return;
      }
      case 'interrupt': {
        const { interrupted: stopped } = await this.service.interrupt(cmd.runId);
        if (!stopped && cmd.runId !== undefined) {
          this.send(client, { type: 'error', ...rid, message: `no queued or running run "${cmd.runId}" to interrupt` });
        } else {
          this.send(client, {
            type: 'ack',
            requestId: cmd.requestId ?? 'interrupt',
            ...(cmd.runId ? { runId: cmd.runId } : {}),
          });
        }
        return;
      }
      case 'clearQueue':
        await this.service.clearQueue();
        this.send(client, { type: 'ack', requestId: cmd.requestId ?? 'clearQueue' });
        return;
      case 'getSnapshot':
        this.send(client, { type: 'snapshot', ...this.service.snapshot(), ...rid });
        return;
      case 'subscribe':
        client.runIds = cmd.runIds ? new Set(cmd.runIds) : undefined;
        this.send(client, { type: 'ack', requestId: cmd.requestId ?? 'subscribe' });
        return;
    }
  }

  private follows(client: Client, runId: string): boolean {
    return client.runIds === undefined || client.runIds.has(runId);
  }

  private broadcast(e: ServiceEvent): void {
    if (e.type === 'preview') {
      let frame: Uint8Array | undefined;
      for (const c of this.clients) {
        if (!this.follows(c, e.runId) || c.ws.bufferedAmount > PREVIEW_BACKLOG_BYTES) continue;
        frame ??= encodePreviewFrame(
          { runId: e.runId, nodeId: e.nodeId, mime: e.mime, step: stepOf(this.service, e) },
          e.data,
        );
        if (c.ws.readyState === c.ws.OPEN) c.ws.send(frame, { binary: true });
      }
      return;
    }
    const text = JSON.stringify(e);
    for (const c of this.clients) {
      if (!('runId' in e) || this.follows(c, e.runId)) this.sendText(c, text);
    }
  }

  private send(client: Client, event: ServerEvent): void {
    this.sendText(client, JSON.stringify(event));
  }

  private sendText(client: Client, text: string): void {
    if (client.ws.readyState !== client.ws.OPEN) return;
    // A client that stopped reading would make us buffer without bound: drop it (it can reconnect and resync).
    if (client.ws.bufferedAmount > STALLED_CLIENT_BYTES) {
      client.ws.terminate();
      this.clients.delete(client);
      return;
    }
    client.ws.send(text);
  }

  private ping(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        c.ws.terminate();
        this.clients.delete(c);
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  /** Closes every connection (1001 going away). */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.off();
    for (const c of this.clients) c.ws.close(1001, 'server shutting down');
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        for (const c of this.clients) c.ws.terminate();
        resolve();
      }, 1000);
      t.unref();
      if (this.clients.size === 0) {
        clearTimeout(t);
        resolve();
      }
      for (const c of this.clients) {
        c.ws.once('close', () => {
          if (this.clients.size === 0) {
            clearTimeout(t);
            resolve();
          }
        });
      }
    });
    this.wss.close();
  }
}

/** The step a preview belongs to: the denoise node's latest progress value (0 when unknown). */
function stepOf(service: RunService, e: { runId: string; nodeId: string }): number {
  const v = service.stepOf(e.runId, e.nodeId);
  return v === undefined ? 0 : Math.max(0, Math.floor(v));
}

/** Echo the requestId of a command that failed validation, when one can be read from it. */
function requestIdOf(bytes: Buffer): { requestId?: string } {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as { requestId?: unknown };
    if (typeof v?.requestId === 'string' && v.requestId.length > 0 && v.requestId.length <= 200)
      return { requestId: v.requestId };
  } catch {
    // not JSON: nothing to echo
  }
  return {};
}
