import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { catalog } from '@sdflow/nodes/catalog.ts';
import { catalogToJson } from '@sdflow/nodes/catalog-json.ts';
import { availableModels } from '../cli/available-models.ts';
import type { ModuleSpec } from '../engine/messages.ts';
import type { EngineLike } from '../jobs/engine-like.ts';
import { JobStore } from '../jobs/job-store.ts';
import {
  type AccessPolicy,
  checkHost,
  checkOrigin,
  checkToken,
  isLoopbackHost,
  tokenCookie,
  tokenMatches,
} from './access.ts';
import { serveEditor } from './editor-files.ts';
import { handleApi } from './http-api.ts';
import { HttpError, sendError } from './http-io.ts';
import { Limits } from './limits.ts';
import { RunService } from './run-service.ts';
import { type StartedRunner, startRunner } from './start-runner.ts';
import { WsHub } from './ws-hub.ts';

// `sdflow serve`: the HTTP API, the WebSocket and the built editor on one port, 127.0.0.1 by default.

export interface ServeOptions {
  readonly host?: string;
  readonly port?: number;
  /** Required when host is not loopback; then every API request and WebSocket must present it. */
  readonly token?: string;
  readonly modelsDir: string;
  readonly outputDir: string;
  readonly cacheDir: string;
  /** Load Image's files (uploads from the editor land here); default: `input` beside the output folder. */
  readonly inputDir?: string;
  /** The job store (every run and the history); default: the folder that holds the cache folder. */
  readonly dataDir?: string;
  /** The built editor; default apps/editor/dist. */
  readonly editorDir?: string;
  /** Example workflows offered by GET /api/workflows; default the repository's workflows/. */
  readonly workflowsDir?: string;
  readonly device?: 'auto' | 'cpu' | 'cuda' | 'webgpu';
  /** One engine per entry (`cuda:0`, `cuda:1`, `cpu`...), each running one run at a time; default one on `device`. */
  readonly devices?: readonly string[];
  /** `redis://host:port`: runs go on this BullMQ queue for `sdflow worker` processes instead of local engines. */
  readonly queue?: string;
  /** A run left running by a crash or a lost worker is started at most this many times in all (default 3). */
  readonly maxAttempts?: number;
  readonly limits?: Partial<Limits>;
  /** Extra origins allowed besides the server's own (e.g. http://localhost:5173 for a dev editor not proxied). */
  readonly allowedOrigins?: readonly string[];
  /** The backend factory the engine's worker loads; default: the ONNX backend (or SDFLOW_BACKEND). */
  readonly backend?: ModuleSpec;
  /** An engine already started (it is not closed by close()); default: one started here per device. */
  readonly engine?: EngineLike;
  /** Output cache budget in bytes. */
  readonly cacheBytes?: number;
}

/** A configuration serve() refuses to start with (reported as a usage error by the CLI). */
export class ServeConfigError extends Error {
  override readonly name = 'ServeConfigError';
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /**
   * Stops taking runs and tells every client; running runs get `graceMs` (default 0) to finish, then go back to the
   * queue, which waits on disk for the next start.
   */
  close(opts?: { graceMs?: number }): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_EDITOR_DIR = path.resolve(here, '../../../editor/dist');
const DEFAULT_WORKFLOWS_DIR = path.resolve(here, '../../../../workflows');
const VERSION = '0.1.0';
const MIN_TOKEN_LENGTH = 8;

export async function serve(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const loopback = isLoopbackHost(host);
  if (!loopback && !opts.token) {
    throw new ServeConfigError(
      `refusing to listen on ${host} without a token: pass --token <secret> (or use --host 127.0.0.1)`,
    );
  }
  if (opts.token !== undefined && opts.token.length < MIN_TOKEN_LENGTH) {
    throw new ServeConfigError(`the token must be at least ${MIN_TOKEN_LENGTH} characters`);
  }
  const limits = Limits.parse(opts.limits ?? {});
  const outputDir = path.resolve(opts.outputDir);
  const modelsDir = path.resolve(opts.modelsDir);
  const inputDir = path.resolve(opts.inputDir ?? path.join(path.dirname(outputDir), 'input'));
  await mkdir(inputDir, { recursive: true });
  await mkdir(outputDir, { recursive: true });
  await mkdir(path.resolve(opts.cacheDir), { recursive: true });

  let store: JobStore;
  try {
    store = JobStore.open(path.resolve(opts.dataDir ?? path.dirname(path.resolve(opts.cacheDir))));
  } catch (err) {
    throw new ServeConfigError((err as Error).message);
  }
  let runner: StartedRunner;
  try {
    runner = await startRunner(opts, {
      store,
      modelsDir,
      outputDir,
      inputDir,
      catalog,
      maxAttempts: opts.maxAttempts ?? 3,
    });
  } catch (err) {
    store.close();
    // A queue that can't be reached is a setting to fix, said in one line (the engine's own failures stay errors).
    if (opts.queue) throw new ServeConfigError((err as Error).message);
    throw err;
  }
  const catalogJson = catalogToJson(catalog);
  const service = new RunService(store, runner.runner, catalog, {
    maxQueue: limits.maxQueue,
    keepHistory: limits.keepHistory,
    runCost: { maxBytes: limits.maxRunBytes, maxWork: limits.maxRunWork },
    // With a queue, the workers' models folders count, as they tell them; else this server's own.
    models: runner.models ?? (() => availableModels(modelsDir)),
  });
  await service.start();
  const hub = new WsHub(service, limits, catalogJson.version);
  const policy: AccessPolicy = { token: opts.token, loopbackOnly: loopback, allowedOrigins: opts.allowedOrigins ?? [] };
  const editorDir = opts.editorDir ?? DEFAULT_EDITOR_DIR;
  const startedAt = Date.now();
  const ctx = {
    service,
    catalog: catalogJson,
    limits,
    modelsDir,
    outputDir,
    inputDir,
    workflowsDir: opts.workflowsDir ?? DEFAULT_WORKFLOWS_DIR,
    startedAt,
    version: VERSION,
    clientCount: () => hub.clientCount,
    stats: runner.stats,
  };

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw new HttpError(400, 'badRequest', 'the request URL cannot be parsed');
    }
    const host = checkHost(policy, req);
    if (!host.ok) throw new HttpError(host.status, host.code, host.message);
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      for (const check of [checkOrigin(policy, req), checkToken(policy, req, url)]) {
        if (!check.ok) throw new HttpError(check.status, check.code, check.message);
      }
      await handleApi(req, res, url, ctx);
      return;
    }
    if (url.pathname === '/ws') throw new HttpError(426, 'upgradeRequired', '/ws is a WebSocket endpoint');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(405, 'methodNotAllowed', `${req.method} is not allowed on ${url.pathname}`);
    }
    // Opening the editor with ?token= stores it in a same-site cookie, so the page's own requests carry it.
    const headers: Record<string, string> = {};
    const given = url.searchParams.get('token');
    if (policy.token !== undefined && given !== null && tokenMatches(policy.token, given)) {
      headers['set-cookie'] = tokenCookie(policy.token);
    }
    await serveEditor(editorDir, url.pathname, res, req.method === 'HEAD', headers);
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) {
        if (err.extra.allow) res.setHeader('allow', String(err.extra.allow));
        if (err.status === 413) discardBody(req);
        const { allow: _allow, ...extra } = err.extra;
        sendError(res, err.status, err.code, err.message, extra);
      } else {
        sendError(res, 500, 'internal', `internal error: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuseUpgrade(socket, 400, 'badRequest', 'bad request URL');
    }
    if (url.pathname !== '/ws')
      return refuseUpgrade(socket, 404, 'notFound', `no WebSocket endpoint at ${url.pathname}; use /ws`);
    for (const check of [checkHost(policy, req), checkOrigin(policy, req), checkToken(policy, req, url)]) {
      if (!check.ok) return refuseUpgrade(socket, check.status, check.code, check.message);
    }
    if (hub.full)
      return refuseUpgrade(socket, 503, 'tooManyClients', `too many WebSocket clients (limit ${limits.maxClients})`);
    hub.upgrade(req, socket, head);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 8188, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await service.stop(0);
    await hub.close();
    await runner.close();
    store.close();
    throw new ServeConfigError(`cannot listen on ${host}:${opts.port ?? 8188}: ${(err as Error).message}`);
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close: (closeOpts = {}) =>
      (closing ??= (async () => {
        await service.stop(closeOpts.graceMs ?? 0);
        await hub.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await runner.close();
        store.close();
      })()),
  };
}

/**
 * After refusing an oversized body, read and drop the rest for a while so that the client, still sending,
 * gets to read the 413 (closing at once would reset the connection under it), then close.
 */
function discardBody(req: IncomingMessage): void {
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), DISCARD_MS);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}
const DISCARD_MS = 10_000;

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  421: 'Misdirected Request',
  503: 'Service Unavailable',
};

function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nconnection: close\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
