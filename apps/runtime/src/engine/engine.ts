import { Worker } from 'node:worker_threads';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { RunEvent } from '@sdflow/nodes/protocol/events.ts';
import type { RunResult } from '../executor/execute.ts';
import type { OutputCacheStats } from '../executor/output-cache.ts';
import type { BackendStats, MainToWorker, ModuleSpec, PreviewEvent, RequestOp, WorkerToMain } from './messages.ts';
import { encodeJpeg } from './preview-jpeg.ts';

// Main-thread side: a FIFO queue of runs, one at a time, executed in a worker thread so that inference
// never blocks the thread serving clients. Restarts the worker (failing the current run) if it dies.

export interface EngineOptions {
  readonly backend: ModuleSpec;
  readonly catalog?: ModuleSpec;
  /** Output cache budget in bytes (default 2 GiB). */
  readonly cacheBytes?: number;
  /** Worker script; default engine-worker.mjs beside this file (a bundled build names its own). */
  readonly workerUrl?: URL;
}

export type EngineEvent = RunEvent | PreviewEvent;
export type EngineListener = (event: EngineEvent) => void;

/** The run in the worker. Its node states are the job store's business (RunService), not the engine's. */
export interface RunningState {
  readonly runId: string;
  readonly workflow: Workflow;
  readonly startedAt: number;
  /** The worker's own progress when the interrupt was raised (shared memory, not events still in flight). */
  interruptedAtStep?: number;
}
export interface EngineSnapshot {
  readonly running: RunningState | null;
  readonly queued: readonly { readonly runId: string; readonly workflow: Workflow; readonly position: number }[];
}

interface Job {
  readonly seq: number;
  readonly runId: string;
  readonly workflow: Workflow;
  readonly targets?: readonly string[];
}

const WORKER_URL = new URL('./engine-worker.mjs', import.meta.url);
const RESULTS_KEPT = 200;

export class Engine {
  readonly #opts: EngineOptions;
  readonly #flag = new Int32Array(new SharedArrayBuffer(8));
  readonly #listeners = new Set<EngineListener>();
  readonly #queue: Job[] = [];
  readonly #results = new Map<string, RunResult>();
  readonly #waiters = new Map<string, ((r: RunResult) => void)[]>();
  readonly #requests = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #worker!: Worker;
  #ready = false;
  #closed = false;
  #current: { job: Job; state: RunningState } | undefined;
  #seq = 0;
  #requestId = 0;
  // Worker messages are handled in arrival order; while a preview is being encoded, later ones queue behind it.
  #inbox: Promise<void> = Promise.resolve();
  #inboxDepth = 0;

  private constructor(opts: EngineOptions) {
    this.#opts = opts;
  }

  /** Starts the worker and waits until the backend and catalog are loaded; rejects with the worker's error. */
  static async start(opts: EngineOptions): Promise<Engine> {
    const engine = new Engine(opts);
    await engine.#spawn();
    return engine;
  }

  /** Queues a workflow (already validated by the caller) and returns its run id. */
  queue(workflow: Workflow, opts: { targets?: readonly string[]; runId?: string } = {}): string {
    if (this.#closed) throw new Error('engine is closed');
    const runId = opts.runId ?? crypto.randomUUID();
    const job: Job = { seq: ++this.#seq, runId, workflow, ...(opts.targets ? { targets: opts.targets } : {}) };
    this.#queue.push(job);
    this.#emit({ type: 'runQueued', runId, position: this.#queue.length - 1 + (this.#current ? 1 : 0) });
    this.#pump();
    return runId;
  }

  /** Interrupts the running run (or the given one; a queued run is dropped). Returns whether anything stopped. */
  interrupt(runId?: string): boolean {
    const cur = this.#current;
    if (cur && (runId === undefined || runId === cur.job.runId)) {
      Atomics.store(this.#flag, 0, cur.job.seq);
      cur.state.interruptedAtStep = Atomics.load(this.#flag, 1);
      this.#post({ type: 'interrupt', seq: cur.job.seq });
      return true;
    }
    if (runId === undefined) return false;
    const i = this.#queue.findIndex((j) => j.runId === runId);
    if (i < 0) return false;
    const [job] = this.#queue.splice(i, 1);
    this.#dropQueued(job!);
    return true;
  }

  /** Drops every queued (not yet running) run; each gets runInterrupted. Returns their ids. */
  clearQueue(): string[] {
    const jobs = this.#queue.splice(0);
    for (const job of jobs) this.#dropQueued(job);
    return jobs.map((j) => j.runId);
  }

  snapshot(): EngineSnapshot {
    const offset = this.#current ? 1 : 0;
    return {
      running: this.#current ? structuredClone(this.#current.state) : null,
      queued: this.#queue.map((j, i) => ({ runId: j.runId, workflow: j.workflow, position: i + offset })),
    };
  }

  on(listener: EngineListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves when the run ends (finished, failed or interrupted); works for recently ended runs too. */
  waitFor(runId: string): Promise<RunResult> {
    const done = this.#results.get(runId);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => {
      const list = this.#waiters.get(runId) ?? [];
      list.push(resolve);
      this.#waiters.set(runId, list);
    });
  }

  /** Calls a method of the backend inside the worker (arguments and result must be structured-cloneable). */
  callBackend<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    return this.#request({ op: 'callBackend', method, args }) as Promise<T>;
  }

  /** The backend's counters: its model store's and its own, whichever it keeps. */
  backendStats(): Promise<BackendStats> {
    return this.#request({ op: 'backendStats' }) as Promise<BackendStats>;
  }

  clearCache(): Promise<void> {
    return this.#request({ op: 'clearCache' }) as Promise<void>;
  }

  cacheStats(): Promise<OutputCacheStats> {
    return this.#request({ op: 'cacheStats' }) as Promise<OutputCacheStats>;
  }

  /** Stops the worker; the running run and queued runs end as interrupted. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.clearQueue();
    const cur = this.#current;
    this.#current = undefined;
    if (cur) this.#finish(cur.job, interruptedResult(cur.job.runId), { type: 'runInterrupted', runId: cur.job.runId });
    for (const r of this.#requests.values()) r.reject(new Error('engine closed'));
    this.#requests.clear();
    await this.#worker.terminate();
  }

  #spawn(): Promise<void> {
    this.#ready = false;
    const worker = new Worker(this.#opts.workerUrl ?? WORKER_URL);
    this.#worker = worker;
    const init: MainToWorker = {
      type: 'init',
      init: {
        backend: this.#opts.backend,
        ...(this.#opts.catalog ? { catalog: this.#opts.catalog } : {}),
        ...(this.#opts.cacheBytes === undefined ? {} : { cacheBytes: this.#opts.cacheBytes }),
        interruptFlag: this.#flag.buffer as SharedArrayBuffer,
      },
    };
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('message', (msg: WorkerToMain) => {
        if (msg.type === 'ready') {
          started = true;
          this.#ready = true;
          resolve();
          this.#pump();
        } else if (msg.type === 'initFailed') {
          reject(new Error(`engine: backend failed to start: ${msg.error}`));
          void worker.terminate();
        } else this.#receive(msg);
      });
      worker.on('error', (err) => {
        if (!started) reject(new Error(`engine: worker failed to start: ${err.message}`));
        else this.#crashed(`engine worker crashed: ${err.message}`);
      });
      worker.on('exit', (code) => {
        if (!started) reject(new Error(`engine: worker exited with code ${code} while starting`));
        else if (!this.#closed && worker === this.#worker) this.#crashed(`engine worker exited with code ${code}`);
      });
      worker.postMessage(init);
    });
  }

  #crashed(error: string): void {
    if (this.#closed || !this.#ready) return;
    this.#ready = false;
    const cur = this.#current;
    this.#current = undefined;
    if (cur) {
      const result: RunResult = { runId: cur.job.runId, status: 'failed', wallMs: 0, nodes: [], files: [], error };
      this.#finish(cur.job, result, { type: 'runFailed', runId: cur.job.runId, error });
    }
    for (const r of this.#requests.values()) r.reject(new Error(error));
    this.#requests.clear();
    void this.#worker.terminate();
    // The run is lost (and the cache with it) but the engine keeps serving the queue.
    this.#spawn().catch((err: Error) => {
      for (const job of this.#queue.splice(0)) {
        this.#finish(
          job,
          { runId: job.runId, status: 'failed', wallMs: 0, nodes: [], files: [], error: err.message },
          {
            type: 'runFailed',
            runId: job.runId,
            error: err.message,
          },
        );
      }
    });
  }

  #receive(msg: WorkerToMain): void {
    if (this.#inboxDepth === 0 && msg.type !== 'preview') {
      this.#onMessage(msg);
      return;
    }
    this.#inboxDepth++;
    this.#inbox = this.#inbox
      .then(async () => {
        if (msg.type !== 'preview') return this.#onMessage(msg);
        const data = await encodeJpeg(msg.frame);
        const { runId, nodeId, frame } = msg;
        this.#emit({
          type: 'preview',
          runId,
          nodeId,
          mime: 'image/jpeg',
          width: frame.width,
          height: frame.height,
          data,
        });
      })
      .catch(() => {
        // A preview that cannot be encoded is dropped; events are handled synchronously and do not throw here.
      })
      .finally(() => {
        this.#inboxDepth--;
      });
  }

  #onMessage(msg: WorkerToMain): void {
    switch (msg.type) {
      case 'event':
        this.#emit(msg.event);
        return;
      case 'runDone': {
        const cur = this.#current;
        if (!cur || cur.job.seq !== msg.seq) return;
        this.#current = undefined;
        this.#finish(cur.job, msg.result);
        this.#pump();
        return;
      }
      case 'response': {
        const r = this.#requests.get(msg.id);
        this.#requests.delete(msg.id);
        if (msg.ok) r?.resolve(msg.value);
        else r?.reject(new Error(msg.error));
        return;
      }
      default:
        return;
    }
  }

  #pump(): void {
    if (!this.#ready || this.#current || this.#closed) return;
    const job = this.#queue.shift();
    if (!job) return;
    const state: RunningState = { runId: job.runId, workflow: job.workflow, startedAt: Date.now() };
    this.#current = { job, state };
    this.#post({
      type: 'run',
      seq: job.seq,
      runId: job.runId,
      workflow: job.workflow,
      ...(job.targets ? { targets: job.targets } : {}),
    });
  }

  #dropQueued(job: Job): void {
    this.#finish(job, interruptedResult(job.runId), { type: 'runInterrupted', runId: job.runId });
  }

  #finish(job: Job, result: RunResult, event?: RunEvent): void {
    if (event) this.#emit(event);
    this.#results.set(job.runId, result);
    if (this.#results.size > RESULTS_KEPT) this.#results.delete(this.#results.keys().next().value!);
    for (const resolve of this.#waiters.get(job.runId) ?? []) resolve(result);
    this.#waiters.delete(job.runId);
  }

  #request(op: RequestOp): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('engine is closed'));
    if (!this.#ready) return Promise.reject(new Error('engine worker is restarting'));
    const id = ++this.#requestId;
    return new Promise((resolve, reject) => {
      this.#requests.set(id, { resolve, reject });
      this.#post({ type: 'request', id, ...op });
    });
  }

  #post(msg: MainToWorker): void {
    this.#worker.postMessage(msg);
  }

  #emit(event: EngineEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}

function interruptedResult(runId: string): RunResult {
  return { runId, status: 'interrupted', wallMs: 0, nodes: [], files: [] };
}
