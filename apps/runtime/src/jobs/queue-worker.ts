import { mkdir, mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { catalog } from '@sdflow/nodes/catalog.ts';
import type { AvailableModels } from '@sdflow/nodes/graph/model-problems.ts';
import { type Job, WaitingError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { EngineEvent } from '../engine/engine.ts';
import { Engine } from '../engine/engine.ts';
import type { ModuleSpec } from '../engine/messages.ts';
import { writeInputs } from './input-transfer.ts';
import { assertRedisReachable } from './redis-reachable.ts';
import {
  CONTROL_CHANNEL,
  ControlMessage,
  EVENTS_CHANNEL,
  HEARTBEAT_MS,
  type JobData,
  type JobResult,
  parseWire,
  QUEUE_NAME,
  redisOptions,
  WORKERS_KEY,
  type WorkerBeat,
  type WorkerMessage,
} from './redis-wire.ts';
import { runModels } from './run-models.ts';

// `sdflow worker`: takes runs from the BullMQ queue one at a time and executes them with the same engine as the
// server's own. Progress and previews go back by pub/sub; the files a run wrote go back inside the job's return
// value, so the server needs no shared disk. A worker that dies mid-run stops renewing its lock; BullMQ's stalled
// check then hands the job to another worker.

export interface QueueWorkerOptions {
  readonly url: string;
  readonly id: string;
  /** As given (`cpu`, `cuda`, `cuda:N`); the engine is started on its kind, `cuda:N` made the only visible GPU. */
  readonly device: string;
  /** The engine's backend, writing into `outputDir` and reading `inputDir` (staging folders: see startQueueWorker). */
  readonly backend: (dirs: { outputDir: string; inputDir: string }) => ModuleSpec;
  /** A run cut short by lost workers is started at most this many times. */
  readonly maxAttempts: number;
  /** How long a worker's hold on a run lasts without renewal: how soon another worker takes over a lost one. */
  readonly lockMs: number;
  readonly cacheBytes?: number;
  /** What this worker's models folder holds (told to the server, which validates runs against it). */
  readonly available?: () => Promise<AvailableModels>;
}

export interface RunningWorker {
  readonly id: string;
  /** Stops taking runs; a running one gets `graceMs` to finish, then goes back to the queue for another worker. */
  close(graceMs: number): Promise<void>;
}

const AVAILABLE_EVERY_MS = 60_000;

/** Previews are for eyes: a few a second is enough, and they cross the network. */
const PREVIEW_EVERY_MS = 250;

export async function startQueueWorker(opts: QueueWorkerOptions): Promise<RunningWorker> {
  await assertRedisReachable(opts.url);
  // The engine's output folder. Shipped files are emptied, not removed: their names keep Save Image's counter going,
  // so each file name stays unique for this worker's life (`origin`).
  const staging = await mkdtemp(path.join(tmpdir(), 'sdflow-worker-'));
  // The input images of the run at hand, as the job brought them from the server.
  const inputDir = await mkdtemp(path.join(tmpdir(), 'sdflow-worker-input-'));
  const origin = `${opts.id}@${crypto.randomUUID()}`;
  const engine = await Engine.start({
    backend: opts.backend({ outputDir: staging, inputDir }),
    ...(opts.cacheBytes === undefined ? {} : { cacheBytes: opts.cacheBytes }),
  });
  const pub = new Redis(opts.url, { maxRetriesPerRequest: null });
  const sub = new Redis(opts.url, { maxRetriesPerRequest: null });
  for (const c of [pub, sub]) c.on('error', () => undefined);

  let current: { runId: string; attempt: number; chain: Promise<unknown>; previewAt: number } | undefined;
  let state: WorkerBeat['state'] = 'starting';
  let stopping = false;
  let models: string[] = [];

  const publish = (msg: WorkerMessage) => pub.publish(EVENTS_CHANNEL, JSON.stringify(msg));
  const later = (task: () => Promise<unknown>) => {
    if (current) current.chain = current.chain.then(task).catch(() => undefined);
  };

  engine.on((e: EngineEvent) => {
    const run = current;
    if (!run || e.runId !== run.runId) return;
    if (e.type === 'preview') {
      const now = Date.now();
      if (now - run.previewAt < PREVIEW_EVERY_MS) return;
      run.previewAt = now;
      const { type: _t, mime: _m, data, ...rest } = e;
      later(() => publish({ type: 'preview', ...rest, data: Buffer.from(data).toString('base64') }));
      return;
    }
    // The run's outcome travels with the job (exactly once); the engine's own queue event means nothing here.
    if (e.type === 'runQueued' || e.type === 'runFinished' || e.type === 'runFailed' || e.type === 'runInterrupted')
      return;
    if (e.type === 'nodeFinished') {
      for (const source of e.files) {
        later(async () =>
          publish({ type: 'file', origin, runId: run.runId, file: await readWireFile(staging, source) }),
        );
      }
    }
    later(() => publish({ type: 'event', worker: opts.id, origin, attempt: run.attempt, event: e }));
  });

  await sub.subscribe(CONTROL_CHANNEL);
  sub.on('message', (_channel: string, text: string) => {
    const msg = parseWire(text, ControlMessage);
    if (msg && current?.runId === msg.runId) engine.interrupt(msg.runId);
  });

  let interruptedToRequeue = false;
  const processor = async (job: Job, token?: string): Promise<JobResult> => {
    const data = job.data as JobData;
    await rm(inputDir, { recursive: true, force: true });
    await mkdir(inputDir, { recursive: true });
    await writeInputs(inputDir, data.inputs ?? []);
    current = { runId: data.runId, attempt: job.attemptsStarted, chain: Promise.resolve(), previewAt: 0 };
    state = 'busy';
    models = [...new Set([...runModels(data.workflow, catalog), ...models])].slice(0, 4);
    void beat();
    try {
      engine.queue(data.workflow, { runId: data.runId, ...(data.targets ? { targets: data.targets } : {}) });
      const result = await engine.waitFor(data.runId);
      await current.chain;
      if (interruptedToRequeue && result.status === 'interrupted') {
        // Stopped for a shutdown, not by a user: back to the queue, for another worker or this one's next start.
        await job.moveToWait(token);
        const back: WorkerMessage = {
          type: 'event',
          worker: opts.id,
          origin,
          attempt: job.attemptsStarted,
          event: { type: 'runQueued', runId: data.runId, position: 0 },
        };
        await publish(back);
        throw new WaitingError();
      }
      const files = await Promise.all(result.files.map((f) => readWireFile(staging, f)));
      // In the return value now: BullMQ keeps it until the server has it.
      await Promise.all(
        files.map((f) => truncate(path.join(staging, path.basename(f.source)), 0).catch(() => undefined)),
      );
      return {
        worker: opts.id,
        origin,
        attempt: job.attemptsStarted,
        status: result.status,
        wallMs: result.wallMs,
        ...(result.error === undefined ? {} : { error: result.error }),
        ...(result.nodeId === undefined ? {} : { nodeId: result.nodeId }),
        files,
      };
    } finally {
      current = undefined;
      state = stopping ? 'stopping' : 'idle';
      void beat();
    }
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: redisOptions(opts.url),
    concurrency: 1,
    lockDuration: opts.lockMs,
    stalledInterval: opts.lockMs,
    maxStalledCount: Math.max(0, opts.maxAttempts - 1),
    autorun: false,
  });
  worker.on('error', () => undefined);

  let available = await opts.available?.().catch(() => undefined);
  let availableAt = Date.now();
  const beat = async () => {
    // A model copied into the folder shows up within a minute, without a restart.
    if (opts.available && Date.now() - availableAt > AVAILABLE_EVERY_MS) {
      availableAt = Date.now();
      available = await opts.available().catch(() => available);
    }
    const b: WorkerBeat = {
      id: opts.id,
      device: opts.device,
      state,
      ...(current ? { runId: current.runId } : {}),
      models,
      ...(available ? { available: { models: [...available.models], tinyVaes: [...available.tinyVaes] } } : {}),
      host: hostname(),
      pid: process.pid,
      lastSeen: Date.now(),
    };
    await pub.hset(WORKERS_KEY, opts.id, JSON.stringify(b)).catch(() => undefined);
  };
  const heartbeat = setInterval(() => void beat(), HEARTBEAT_MS);
  state = 'idle';
  await beat();
  void worker.run();
  await worker.waitUntilReady();

  let closing: Promise<void> | undefined;
  return {
    id: opts.id,
    close: (graceMs) =>
      (closing ??= (async () => {
        stopping = true;
        state = 'stopping';
        await beat();
        const closed = worker.close();
        const timer = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
        if ((await Promise.race([closed.then(() => 'closed'), timer])) !== 'closed' && current) {
          interruptedToRequeue = true;
          engine.interrupt(current.runId);
        }
        await closed;
        clearInterval(heartbeat);
        await pub.hdel(WORKERS_KEY, opts.id).catch(() => undefined);
        await engine.close();
        for (const c of [pub, sub]) c.disconnect();
        await rm(staging, { recursive: true, force: true });
        await rm(inputDir, { recursive: true, force: true });
      })()),
  };
}

/** A file of the staging folder; without data when it was shipped before (emptied). */
async function readWireFile(dir: string, source: string): Promise<{ source: string; data?: string }> {
  const bytes = await readFile(path.join(dir, path.basename(source))).catch(() => Buffer.alloc(0));
  return bytes.length === 0 ? { source } : { source, data: bytes.toString('base64') };
}
