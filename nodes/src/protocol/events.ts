import { z } from 'zod';
import { Problem } from '../graph/problem.ts';

// Runtime -> client: one union, plain data. Executor events are the run-scoped members (RunEvent);
// ServerEvent adds the session-level ones. Previews travel separately as binary frames (preview-frame.ts).

export const PROTOCOL_VERSION = 1;

// Problem lives with validation (graph/problem.ts); re-exported here as part of the wire format.
export { Problem };

const run = { runId: z.string() };
const node = { runId: z.string(), nodeId: z.string() };

export const RunEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('runQueued'), ...run, position: z.number().int() }),
  z.object({ type: z.literal('runStarted'), ...run, nodes: z.array(z.string()) }),
  z.object({ type: z.literal('nodeStarted'), ...node }),
  z.object({ type: z.literal('nodeProgress'), ...node, value: z.number(), max: z.number() }),
  z.object({ type: z.literal('nodeCached'), ...node }),
  z.object({
    type: z.literal('nodeFinished'),
    ...node,
    wallMs: z.number(),
    peakBytes: z.number().optional(),
    files: z.array(z.string()).default([]),
  }),
  z.object({
    type: z.literal('nodeFailed'),
    ...node,
    error: z.string(),
    port: z.string().optional(),
    param: z.string().optional(),
  }),
  z.object({ type: z.literal('runFinished'), ...run, wallMs: z.number(), files: z.array(z.string()).default([]) }),
  z.object({ type: z.literal('runFailed'), ...run, error: z.string(), nodeId: z.string().optional() }),
  z.object({ type: z.literal('runInterrupted'), ...run, nodeId: z.string().optional() }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent['type'];

/** Where one node of a run stands: enough for a reconnecting client to repaint it. */
export const NodeRunState = z.object({
  status: z.enum(['pending', 'running', 'cached', 'finished', 'failed', 'interrupted']),
  value: z.number().optional(),
  max: z.number().optional(),
  wallMs: z.number().optional(),
  peakBytes: z.number().optional(),
  files: z.array(z.string()).default([]),
  error: z.string().optional(),
  port: z.string().optional(),
  param: z.string().optional(),
});
export type NodeRunState = z.infer<typeof NodeRunState>;

/** A run waiting in the queue. Times are milliseconds since the epoch. */
export const QueuedRun = z.object({
  runId: z.string(),
  clientId: z.string().optional(),
  name: z.string().optional(),
  queuedAt: z.number(),
  /** Times the run was started: more than 1 when a crash or a lost worker made it run again (at-least-once). */
  attempts: z.number().int().optional(),
  /** The worker (an engine of this server, or a `sdflow worker`) that ran it last. */
  worker: z.string().optional(),
});
export type QueuedRun = z.infer<typeof QueuedRun>;

export const RunningRun = QueuedRun.extend({
  startedAt: z.number(),
  /** Planned nodes in execution order. */
  nodes: z.array(z.string()),
  nodeStates: z.record(z.string(), NodeRunState),
});
export type RunningRun = z.infer<typeof RunningRun>;

export const FinishedRun = QueuedRun.extend({
  status: z.enum(['finished', 'failed', 'interrupted']),
  startedAt: z.number().optional(),
  finishedAt: z.number(),
  wallMs: z.number().optional(),
  files: z.array(z.string()).default([]),
  error: z.string().optional(),
  nodeId: z.string().optional(),
  nodeStates: z.record(z.string(), NodeRunState).default({}),
});
export type FinishedRun = z.infer<typeof FinishedRun>;

export const Snapshot = z.object({
  queue: z.array(QueuedRun),
  /** The oldest running run (kept for clients that show one); `active` lists them all. */
  running: RunningRun.nullable(),
  /** Every running run, oldest first: several when several devices or workers run at once. */
  active: z.array(RunningRun).default([]),
  /** Most recent first. */
  history: z.array(FinishedRun),
});
export type Snapshot = z.infer<typeof Snapshot>;

const requestId = z.string().max(200);

export const SessionEvent = z.discriminatedUnion('type', [
  /** First message on every connection. */
  z.object({
    type: z.literal('hello'),
    protocolVersion: z.number().int(),
    catalogVersion: z.string(),
    clientId: z.string().optional(),
  }),
  z.object({ type: z.literal('snapshot'), ...Snapshot.shape, requestId: requestId.optional() }),
  /** A command was accepted; runId for queueRun. */
  z.object({ type: z.literal('ack'), requestId, runId: z.string().optional() }),
  /** A workflow sent with queueRun did not validate: every problem, per node. */
  z.object({ type: z.literal('validationFailed'), requestId: requestId.optional(), problems: z.array(Problem) }),
  /** A frame or command could not be handled (malformed, oversized, unknown type, unknown run...). */
  z.object({
    type: z.literal('error'),
    message: z.string(),
    requestId: requestId.optional(),
    problems: z.array(Problem).optional(),
  }),
  /** Queued runs removed by clearQueue (they never started). */
  z.object({ type: z.literal('queueCleared'), runIds: z.array(z.string()) }),
  /** Finished runs removed from the history (DELETE /api/history/:runId, or a clear). */
  z.object({ type: z.literal('historyDeleted'), runIds: z.array(z.string()) }),
  /** The server is shutting down: running runs get `graceMs` to finish, then go back to the queue; queued runs stay
   *  queued and run after a restart. The connection closes next (1001). */
  z.object({ type: z.literal('serverStopping'), graceMs: z.number() }),
]);
export type SessionEvent = z.infer<typeof SessionEvent>;

export const ServerEvent = z.discriminatedUnion('type', [...RunEvent.options, ...SessionEvent.options]);
export type ServerEvent = z.infer<typeof ServerEvent>;
export type ServerEventType = ServerEvent['type'];

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses one text frame from the runtime. */
export function parseServerEvent(text: string): ParseResult<ServerEvent> {
  return parseFrame(text, ServerEvent);
}

export function parseFrame<T>(text: string, schema: z.ZodType<T>): ParseResult<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `malformed JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, error: r.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ') };
}
