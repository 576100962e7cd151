import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { RunEvent } from '@sdflow/nodes/protocol/events.ts';
import { z } from 'zod';

// What the server and `sdflow worker` processes say to each other through Redis, besides the BullMQ queue itself:
// live events (pub/sub, lossy by design: the durable outcome is the job's return value), interrupts, and each
// worker's heartbeat. Both ends parse what they read: a Redis is shared ground.

export const QUEUE_NAME = 'sdflow-runs';
export const EVENTS_CHANNEL = 'sdflow:events';
export const CONTROL_CHANNEL = 'sdflow:control';
export const WORKERS_KEY = 'sdflow:workers';
/** A worker silent this long is listed offline. */
export const WORKER_STALE_MS = 10_000;
export const HEARTBEAT_MS = 2_000;

export interface JobData {
  readonly runId: string;
  readonly workflow: Workflow;
  readonly targets?: readonly string[];
  /** The input images the run reads (Load Image...), from the server's input folder: workers need no shared disk. */
  readonly inputs?: readonly { readonly file: string; readonly data: string }[];
}

/**
 * A file a run wrote, carried to the server (which owns the output folder) as base64; without data when it was
 * shipped before (a run served from the worker's cache names the files of the run that made them).
 */
export const WireFile = z.object({ source: z.string().max(200), data: z.string().optional() });
export type WireFile = z.infer<typeof WireFile>;

/** A finished job's return value: the run's outcome and every file it wrote. */
export const JobResult = z.object({
  worker: z.string(),
  /** One life of a worker (a fresh id each start): its file names are unique within it. */
  origin: z.string(),
  attempt: z.number().int(),
  status: z.enum(['finished', 'failed', 'interrupted']),
  wallMs: z.number(),
  error: z.string().optional(),
  nodeId: z.string().optional(),
  files: z.array(WireFile),
});
export type JobResult = z.infer<typeof JobResult>;

export const WorkerMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('event'),
    worker: z.string(),
    origin: z.string(),
    attempt: z.number().int(),
    event: RunEvent,
  }),
  z.object({ type: z.literal('file'), origin: z.string(), runId: z.string(), file: WireFile }),
  z.object({
    type: z.literal('preview'),
    runId: z.string(),
    nodeId: z.string(),
    width: z.number(),
    height: z.number(),
    data: z.string(),
  }),
]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;

export const ControlMessage = z.object({ type: z.literal('interrupt'), runId: z.string() });
export type ControlMessage = z.infer<typeof ControlMessage>;

const AvailableModel = z.object({ id: z.string(), vaeScaleFactor: z.number().optional() });

export const WorkerBeat = z.object({
  id: z.string(),
  device: z.string(),
  state: z.enum(['idle', 'busy', 'starting', 'stopping']),
  runId: z.string().optional(),
  models: z.array(z.string()),
  /** What its models folder holds: the server validates runs against what its live workers can load. */
  available: z.object({ models: z.array(AvailableModel), tinyVaes: z.array(AvailableModel) }).optional(),
  host: z.string(),
  pid: z.number(),
  lastSeen: z.number(),
});
export type WorkerBeat = z.infer<typeof WorkerBeat>;

/** Parses JSON text against a schema; undefined for anything else (a stranger on a shared Redis). */
export function parseWire<T>(text: string, schema: z.ZodType<T>): T | undefined {
  try {
    const r = schema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Connection options BullMQ and ioredis both take: the URL, and no command given up on while Redis restarts. */
export function redisOptions(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}
