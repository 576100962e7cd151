import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CatalogJson } from '@sdflow/nodes/catalog-json.ts';
import { importPngText } from '@sdflow/nodes/comfy/import-document.ts';
import { z } from 'zod';
import { HISTORY_CURSOR } from '../jobs/job-store.ts';
import { listExampleWorkflows } from './example-workflows.ts';
import { HttpError, readBody, readJson, sendJson } from './http-io.ts';
import { saveInputImage } from './input-upload.ts';
import type { Limits } from './limits.ts';
import { listModels } from './model-list.ts';
import { listOutputs, serveOutputFile } from './output-files.ts';
import { PngTextError, readPngText } from './png-text.ts';
import type { RunService } from './run-service.ts';

// The HTTP API under /api: JSON in (zod-checked), JSON out; errors are { error: { code, message } }.

export interface ApiContext {
  readonly service: RunService;
  readonly catalog: CatalogJson;
  readonly limits: Limits;
  readonly modelsDir: string;
  readonly outputDir: string;
  /** Load Image's folder: uploads land here. */
  readonly inputDir: string;
  readonly workflowsDir: string;
  readonly startedAt: number;
  readonly version: string;
  clientCount(): number;
  /** The first engine's backend and output-cache counters (embedded runner), or nothing (workers elsewhere). */
  stats(): Promise<Record<string, unknown>>;
}

const QueueBody = z.object({
  /** Checked by validateWorkflow, so that problems come back per node. */
  workflow: z.unknown(),
  targets: z.array(z.string().max(200)).max(10_000).optional(),
  clientId: z.string().max(200).optional(),
});
const InterruptBody = z.object({ runId: z.string().max(200).optional() }).strict();

/** The text keys Save Image may have used for the workflow, most specific first. */
const WORKFLOW_KEYS = ['sdflow.workflow', 'sdflow-workflow', 'workflow'];

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ApiContext,
  params: string[],
  url: URL,
) => Promise<void>;

const routes: { method: string; pattern: RegExp; handler: Handler }[] = [
  {
    method: 'GET',
    pattern: /^\/api\/health$/,
    handler: async (_req, res, ctx) =>
      sendJson(res, 200, { ok: true, version: ctx.version, uptimeMs: Date.now() - ctx.startedAt }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/catalog$/,
    handler: async (_req, res, ctx) =>
      sendJson(res, 200, { ...ctx.catalog, catalogVersion: ctx.catalog.version }, { etag: `"${ctx.catalog.version}"` }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/models$/,
    handler: async (_req, res, ctx) => sendJson(res, 200, { models: await listModels(ctx.modelsDir) }),
  },
  {
    method: 'POST',
    pattern: /^\/api\/runs$/,
    handler: async (req, res, ctx) => {
      const body = await readJson(req, QueueBody, ctx.limits.maxBodyBytes);
      const r = await ctx.service.queue(body.workflow, {
        ...(body.clientId ? { clientId: body.clientId } : {}),
        ...(body.targets ? { targets: body.targets } : {}),
      });
      if (r.ok) return sendJson(res, 202, { runId: r.runId, migrations: r.migrations });
      if (r.kind === 'invalid') {
        const n = r.problems.length;
        return sendJson(res, 400, {
          error: { code: 'invalidWorkflow', message: `the workflow has ${n} problem${n === 1 ? '' : 's'}` },
          problems: r.problems,
        });
      }
      if (r.kind === 'queueFull') throw new HttpError(429, 'queueFull', r.message);
      throw new HttpError(503, r.kind === 'stopping' ? 'stopping' : 'queueUnavailable', r.message);
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/validate$/,
    handler: async (req, res, ctx) => {
      const body = await readJson(req, QueueBody.pick({ workflow: true }), ctx.limits.maxBodyBytes);
      sendJson(res, 200, await ctx.service.validate(body.workflow));
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/queue$/,
    handler: async (_req, res, ctx) => {
      const { queue, running, active } = ctx.service.snapshot(0);
      sendJson(res, 200, { running, active, queue, maxQueue: ctx.limits.maxQueue });
    },
  },
  { method: 'POST', pattern: /^\/api\/queue\/clear$/, handler: clearQueue },
  { method: 'DELETE', pattern: /^\/api\/queue$/, handler: clearQueue },
  {
    method: 'GET',
    pattern: /^\/api\/history$/,
    handler: async (_req, res, ctx, _p, url) => {
      const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 50) || 50, 1), ctx.limits.maxHistory);
      const before = url.searchParams.get('before') ?? undefined;
      if (before !== undefined && !HISTORY_CURSOR.test(before)) {
        throw new HttpError(400, 'badCursor', '"before" must be the "next" cursor of a previous history page');
      }
      sendJson(res, 200, ctx.service.history({ limit, ...(before === undefined ? {} : { before }) }));
    },
  },
  { method: 'DELETE', pattern: /^\/api\/history$/, handler: clearHistory },
  { method: 'POST', pattern: /^\/api\/history\/clear$/, handler: clearHistory },
  {
    method: 'GET',
    pattern: /^\/api\/history\/([^/]+)$/,
    handler: async (_req, res, ctx, [runId]) => {
      const run = ctx.service.describe(runId!);
      if (!run) throw new HttpError(404, 'unknownRun', `no run "${runId}" in the queue or history`);
      sendJson(res, 200, run);
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/history\/([^/]+)$/,
    handler: async (_req, res, ctx, [runId]) => {
      const run = ctx.service.store.get(runId!);
      if (!run) throw new HttpError(404, 'unknownRun', `no run "${runId}" in the history`);
      if (run.status === 'queued' || run.status === 'running') {
        throw new HttpError(409, 'runActive', `run "${runId}" is ${run.status}: interrupt it first`);
      }
      sendJson(res, 200, { runIds: ctx.service.deleteHistory([runId!]) });
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/interrupt$/,
    handler: async (req, res, ctx) => {
      const body = await readOptionalJson(req, InterruptBody, ctx.limits.maxBodyBytes);
      const { interrupted, at } = await ctx.service.interrupt(body.runId);
      if (!interrupted && body.runId !== undefined) {
        throw new HttpError(404, 'unknownRun', `no queued or running run "${body.runId}" to interrupt`);
      }
      sendJson(res, 200, { interrupted, ...(at ? { at } : {}) });
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/workflows$/,
    handler: async (_req, res, ctx) => sendJson(res, 200, { workflows: await listExampleWorkflows(ctx.workflowsDir) }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/inputs$/,
    handler: async (_req, res, ctx) => sendJson(res, 200, { files: await listOutputs(ctx.inputDir) }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/inputs\/(.+)$/,
    handler: async (_req, res, ctx, [name]) => serveOutputFile(ctx.inputDir, name!, res, 'input'),
  },
  {
    method: 'POST',
    pattern: /^\/api\/inputs$/,
    handler: async (req, res, ctx, _p, url) => {
      const name = url.searchParams.get('name');
      if (!name) throw new HttpError(400, 'badFileName', 'give the file name as ?name=<name>.png|jpg|webp');
      const body = await readBody(req, ctx.limits.maxUploadBytes);
      sendJson(res, 201, { name: await saveInputImage(ctx.inputDir, name, body) });
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/outputs$/,
    handler: async (_req, res, ctx) => sendJson(res, 200, { files: await listOutputs(ctx.outputDir) }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/outputs\/(.+)$/,
    handler: async (_req, res, ctx, [name]) => serveOutputFile(ctx.outputDir, name!, res),
  },
  {
    method: 'POST',
    pattern: /^\/api\/workflow-from-png$/,
    handler: async (req, res, ctx) => {
      const body = await readBody(req, ctx.limits.maxUploadBytes);
      let text: Record<string, string>;
      try {
        text = readPngText(body);
      } catch (err) {
        if (err instanceof PngTextError) throw new HttpError(400, 'badPng', err.message);
        throw err;
      }
      // sdflow's workflow as it is; ComfyUI's (its "prompt" / "workflow" text) converted, with the import report.
      const r = importPngText(text, WORKFLOW_KEYS);
      if (!r.ok) throw new HttpError(422, r.code, r.message);
      sendJson(res, 200, { workflow: r.document, ...(r.report ? { report: r.report } : {}) });
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/stats$/,
    handler: async (_req, res, ctx) => {
      const [workers, cache] = await Promise.all([ctx.service.workers(), ctx.stats()]);
      const { queue, active } = ctx.service.snapshot(0);
      sendJson(res, 200, {
        ...cache,
        workers,
        server: {
          clients: ctx.clientCount(),
          queued: queue.length,
          running: active[0]?.runId ?? null,
          runningRuns: active.map((r) => ({ runId: r.runId, worker: r.worker })),
          uptimeMs: Date.now() - ctx.startedAt,
        },
        process: { rssBytes: process.memoryUsage().rss },
      });
    },
  },
];

async function clearHistory(_req: IncomingMessage, res: ServerResponse, ctx: ApiContext): Promise<void> {
  sendJson(res, 200, { runIds: ctx.service.deleteHistory() });
}

async function clearQueue(_req: IncomingMessage, res: ServerResponse, ctx: ApiContext): Promise<void> {
  sendJson(res, 200, { runIds: await ctx.service.clearQueue() });
}

/** An empty body counts as `{}` (curl -X POST with no data). */
async function readOptionalJson<T extends z.ZodType>(
  req: IncomingMessage,
  schema: T,
  max: number,
): Promise<z.infer<T>> {
  const length = req.headers['content-length'];
  if ((length === undefined || length === '0') && !req.headers['transfer-encoding']) return schema.parse({});
  return readJson(req, schema, max);
}

/** Dispatches one /api request; throws HttpError for the caller to answer. */
export async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, ctx: ApiContext): Promise<void> {
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  const matching = routes.filter((r) => r.pattern.test(url.pathname));
  if (matching.length === 0) throw new HttpError(404, 'notFound', `no API route ${url.pathname}`);
  const route = matching.find((r) => r.method === method);
  if (!route) {
    const allowed = matching.map((r) => r.method).join(', ');
    throw new HttpError(
      405,
      'methodNotAllowed',
      `${req.method} is not allowed on ${url.pathname} (allowed: ${allowed})`,
      {
        allow: allowed,
      },
    );
  }
  const params = route.pattern.exec(url.pathname)!.slice(1);
  // Handlers decode their params; a malformed escape is the client's mistake, answered before any handler runs.
  const malformed = params.find((p) => !decodes(p));
  if (malformed !== undefined) {
    throw new HttpError(
      400,
      'badPath',
      `${JSON.stringify(malformed)} in ${JSON.stringify(url.pathname)} is not valid percent-encoding (UTF-8 as %XX)`,
    );
  }
  await route.handler(req, res, ctx, params, url);
}

function decodes(param: string): boolean {
  try {
    decodeURIComponent(param);
    return true;
  } catch {
    return false;
  }
}
