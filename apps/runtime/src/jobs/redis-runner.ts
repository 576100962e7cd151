import type { Catalog } from '@sdflow/nodes/catalog.ts';
import type { AvailableModel, AvailableModels } from '@sdflow/nodes/graph/model-problems.ts';
import type { RunEvent } from '@sdflow/nodes/protocol/events.ts';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { readInputs } from './input-transfer.ts';
import type { JobStore } from './job-store.ts';
import { OutputImport } from './output-import.ts';
import { assertRedisReachable } from './redis-reachable.ts';
import {
  CONTROL_CHANNEL,
  type ControlMessage,
  EVENTS_CHANNEL,
  type JobData,
  JobResult,
  parseWire,
  QUEUE_NAME,
  redisOptions,
  WORKER_STALE_MS,
  WORKERS_KEY,
  type WorkerBeat,
  WorkerBeat as WorkerBeatSchema,
  WorkerMessage,
} from './redis-wire.ts';
import { namedFrom } from './run-models.ts';
import type { InterruptAnswer, Runner, RunnerSink, WorkerInfo } from './runner.ts';

// The server's side of `--queue redis://`: runs go on a BullMQ queue that `sdflow worker` processes take from. The
// job store stays the server's record (history, what clients see); BullMQ decides who runs what, re-runs the job of
// a worker that died (its stalled-job check), and keeps each job's outcome until the server has recorded it.
//
// Live events arrive by pub/sub and may be lost while the server is down; the outcome of a run comes only from
// BullMQ's own record of the job (QueueEvents, or a look at the job at start), so each run ends exactly once.

export interface RedisRunnerOptions {
  readonly url: string;
  readonly store: JobStore;
  readonly outputDir: string;
  /** Input images the runs read are sent from here with each job. */
  readonly inputDir: string;
  readonly catalog: Catalog;
  readonly maxAttempts: number;
}

export async function startRedisRunner(opts: RedisRunnerOptions) {
  await assertRedisReachable(opts.url);
  const runner = new RedisRunner(opts);
  await runner.connect();
  return {
    runner,
    stats: async () => ({}),
    models: () => runner.availableModels(),
    close: () => runner.close(),
  };
}

export class RedisRunner implements Runner {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly sub: Redis;
  private readonly pub: Redis;
  private readonly files: OutputImport;
  private sink: RunnerSink | undefined;
  /** Worker messages are handled one at a time, in order: a file is written before the event that names it. */
  private inbox: Promise<void> = Promise.resolve();

  constructor(private readonly opts: RedisRunnerOptions) {
    const connection = redisOptions(opts.url);
    this.queue = new Queue(QUEUE_NAME, { connection });
    this.events = new QueueEvents(QUEUE_NAME, { connection });
    this.sub = new Redis(opts.url, { maxRetriesPerRequest: null, lazyConnect: true });
    this.pub = new Redis(opts.url, { maxRetriesPerRequest: null, lazyConnect: true });
    this.files = new OutputImport(opts.store, opts.outputDir);
    // ioredis reconnects by itself; an error event must not crash the server while Redis restarts.
    for (const c of [this.sub, this.pub]) c.on('error', () => undefined);
    this.queue.on('error', () => undefined);
    this.events.on('error', () => undefined);
  }

  /** Fails fast, naming the URL, when Redis can't be reached at start. */
  async connect(): Promise<void> {
    try {
      await Promise.race([
        Promise.all([this.sub.connect(), this.pub.connect(), this.queue.waitUntilReady()]),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 10 s')), 10_000).unref()),
      ]);
    } catch (err) {
      await this.close();
      throw new Error(`cannot reach the Redis queue at ${this.opts.url}: ${(err as Error).message}`);
    }
  }

  async start(sink: RunnerSink): Promise<void> {
    this.sink = sink;
    await this.sub.subscribe(EVENTS_CHANNEL);
    this.sub.on('message', (_channel: string, text: string) => {
      const msg = parseWire(text, WorkerMessage);
      if (msg) this.serially(() => this.onWorkerMessage(msg));
    });
    this.events.on('completed', ({ jobId, returnvalue }) =>
      this.serially(() => this.completed(jobId, returnvalue as unknown)),
    );
    this.events.on('failed', ({ jobId, failedReason }) => this.serially(() => this.failed(jobId, failedReason)));
    this.events.on('stalled', ({ jobId }) => this.serially(() => this.stalled(jobId)));
    await this.events.waitUntilReady();
    // Listening first, then looking: what ended while the server was down is recorded now.
    await this.serially(() => this.reconcile());
  }

  async submitted(runId: string): Promise<void> {
    await this.add(runId);
  }

  async interrupt(runId: string): Promise<InterruptAnswer> {
    if (this.opts.store.get(runId)?.status !== 'running') return { interrupted: false };
    const msg: ControlMessage = { type: 'interrupt', runId };
    await this.pub.publish(CONTROL_CHANNEL, JSON.stringify(msg));
    return { interrupted: true };
  }

  async dropped(runIds: readonly string[]): Promise<void> {
    for (const runId of runIds) {
      const job = await this.queue.getJob(runId);
      // A job a worker took meanwhile can't be removed (it is locked): stop it instead.
      await job?.remove().catch(() => this.pub.publish(CONTROL_CHANNEL, JSON.stringify({ type: 'interrupt', runId })));
    }
  }

  async workers(): Promise<WorkerInfo[]> {
    const now = Date.now();
    return (await this.beats())
      .map(({ available: _a, ...b }) => ({
        ...b,
        state: now - b.lastSeen > WORKER_STALE_MS ? ('offline' as const) : b.state,
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * The models the live workers can load, together; undefined while no live worker has said (a run may wait for a
   * worker that brings its model, so it is not refused then).
   */
  async availableModels(): Promise<AvailableModels | undefined> {
    const now = Date.now();
    const live = (await this.beats()).filter((b) => now - b.lastSeen <= WORKER_STALE_MS && b.available);
    if (live.length === 0) return undefined;
    const union = (pick: (a: AvailableModels) => readonly AvailableModel[]) => [
      ...new Map(live.flatMap((b) => pick(b.available!)).map((m) => [m.id, m])).values(),
    ];
    return { models: union((a) => a.models), tinyVaes: union((a) => a.tinyVaes) };
  }

  private async beats(): Promise<WorkerBeat[]> {
    const beats = await this.pub.hgetall(WORKERS_KEY).catch(() => ({}) as Record<string, string>);
    return Object.values(beats)
      .map((text) => parseWire(text, WorkerBeatSchema))
      .filter((b) => b !== undefined);
  }

  /** The workers go on; the server only stops listening (what ends meanwhile is read back at the next start). */
  async stop(): Promise<void> {
    this.sink = undefined;
    await this.inbox;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    for (const c of [this.sub, this.pub]) c.disconnect();
  }

  private serially(task: () => Promise<void>): Promise<void> {
    const next = this.inbox.then(task).catch(() => undefined);
    this.inbox = next;
    return next;
  }

  private async add(runId: string): Promise<void> {
    const job = this.opts.store.job(runId);
    if (!job) return;
    const inputs = await readInputs(this.opts.inputDir, namedFrom(job.workflow, this.opts.catalog, 'inputs'));
    const data: JobData = { runId, ...job, ...(inputs.length > 0 ? { inputs } : {}) };
    // The run id is the job id: adding the same run twice (a restart in between) is one job.
    await this.queue.add('run', data, { jobId: runId, attempts: 1, removeOnComplete: false, removeOnFail: false });
  }

  private async onWorkerMessage(msg: WorkerMessage): Promise<void> {
    const sink = this.sink;
    if (!sink) return;
    if (msg.type === 'preview') {
      const { data, type: _type, ...rest } = msg;
      sink.preview({ type: 'preview', ...rest, mime: 'image/jpeg', data: Buffer.from(data, 'base64') });
      return;
    }
    const runId = msg.type === 'file' ? msg.runId : msg.event.runId;
    const run = this.opts.store.get(runId);
    if (!run || (run.status !== 'queued' && run.status !== 'running')) return;
    if (msg.type === 'file') {
      if (msg.file.data !== undefined) await this.files.write(msg.origin, runId, msg.file.source, msg.file.data);
      return;
    }
    const e = msg.event;
    if (e.type === 'runStarted' && msg.attempt > 1) await this.files.discard(runId);
    // A worker stopping gave the run back: it waits again (a shutdown uses up no attempt).
    if (e.type === 'runQueued' && !this.opts.store.requeue(runId, false)) return;
    sink.event(
      e.type === 'nodeFinished' ? { ...e, files: e.files.map((f) => this.files.nameOf(msg.origin, runId, f)) } : e,
      msg.worker,
      msg.attempt,
    );
  }

  private async completed(runId: string, value: unknown): Promise<void> {
    const parsed = JobResult.safeParse(typeof value === 'string' ? safeJson(value) : value);
    if (!parsed.success) return this.failed(runId, 'the worker returned no result sdflow can read');
    const r = parsed.data;
    // An attempt the server never saw start (it was down): an earlier attempt's files may still be here.
    if (r.attempt > 1 && (this.opts.store.get(runId)?.attempts ?? 0) < r.attempt) await this.files.discard(runId);
    const files: string[] = [];
    for (const f of r.files) {
      const name =
        f.data === undefined
          ? this.files.known(r.origin, f.source)
          : await this.files.write(r.origin, runId, f.source, f.data);
      if (name !== undefined) files.push(name);
    }
    const e: RunEvent =
      r.status === 'finished'
        ? { type: 'runFinished', runId, wallMs: r.wallMs, files }
        : r.status === 'failed'
          ? { type: 'runFailed', runId, error: r.error ?? 'the run failed', ...(r.nodeId ? { nodeId: r.nodeId } : {}) }
          : { type: 'runInterrupted', runId, ...(r.nodeId ? { nodeId: r.nodeId } : {}) };
    this.sink?.event(e, r.worker, r.attempt);
    await this.forget(runId);
  }

  private async failed(runId: string, reason: string): Promise<void> {
    const error = /stalled more than allowable limit/.test(reason)
      ? `the run's worker was lost ${this.opts.maxAttempts} times (at most ${this.opts.maxAttempts} attempts)`
      : reason;
    this.sink?.event({ type: 'runFailed', runId, error }, 'queue');
    await this.forget(runId);
  }

  /** BullMQ moved the job of a lost worker back to the queue: clients see it waiting again. */
  private async stalled(runId: string): Promise<void> {
    await this.files.discard(runId);
    if (this.opts.store.requeue(runId, true)) this.sink?.event({ type: 'runQueued', runId, position: 0 }, 'queue');
  }

  /** Once recorded here, the job has nothing more to tell. */
  private async forget(runId: string): Promise<void> {
    if (this.opts.store.get(runId)?.finishedAt === undefined) return;
    const job = await this.queue.getJob(runId);
    await job?.remove().catch(() => undefined);
  }

  /** Brings the store in line with the queue after a start: ended jobs are recorded, lost ones queued again. */
  private async reconcile(): Promise<void> {
    const store = this.opts.store;
    for (const run of [...store.running(), ...store.queued()]) {
      const job: Job | undefined = await this.queue.getJob(run.runId);
      if (!job) {
        // Stored but never queued (the server stopped in between), or lost with a Redis that kept nothing.
        if (run.status === 'running') {
          await this.files.discard(run.runId);
          store.requeue(run.runId, true);
        }
        await this.add(run.runId);
        continue;
      }
      const state = await job.getState();
      if (state === 'completed') await this.completed(run.runId, job.returnvalue);
      else if (state === 'failed') await this.failed(run.runId, job.failedReason);
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
