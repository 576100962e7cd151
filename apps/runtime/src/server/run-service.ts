import type { Catalog } from '@sdflow/nodes/catalog.ts';
import { type AvailableModels, modelProblems } from '@sdflow/nodes/graph/model-problems.ts';
import type { Problem } from '@sdflow/nodes/graph/problem.ts';
import { type RunCostLimits, runCostProblems } from '@sdflow/nodes/graph/run-cost.ts';
import { validateWorkflow } from '@sdflow/nodes/graph/validate.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { FinishedRun, QueuedRun, RunEvent, RunningRun, Snapshot } from '@sdflow/nodes/protocol/events.ts';
import type { PreviewEvent } from '../engine/messages.ts';
import type { HistoryPage, JobStore, StoredRun } from '../jobs/job-store.ts';
import type { Runner, WorkerInfo } from '../jobs/runner.ts';

// Between the transports (HTTP, WebSocket) and the runner: validation, the queue cap, the job store as the one
// record of every run, live progress, fan-out to clients.

export type QueueResult =
  | { ok: true; runId: string; migrations: string[] }
  | { ok: false; kind: 'invalid'; problems: Problem[] }
  | { ok: false; kind: 'queueFull' | 'stopping' | 'unavailable'; message: string };

export type ServiceEvent =
  | RunEvent
  | PreviewEvent
  | { type: 'queueCleared'; runIds: string[] }
  | { type: 'historyDeleted'; runIds: string[] }
  | { type: 'serverStopping'; graceMs: number };

export interface ServiceLimits {
  /** Runs waiting (not counting running ones). */
  readonly maxQueue: number;
  /** Ended runs kept on disk; older ones are pruned. */
  readonly keepHistory: number;
  /** Runs estimated beyond these are refused before they are queued (run-cost.ts has the defaults). */
  readonly runCost?: RunCostLimits;
  /** The models runs may name (this server's models folder, or what the live workers hold); undefined: unknown. */
  readonly models?: () => Promise<AvailableModels | undefined>;
}

type Progress = Record<string, { value: number; max: number }>;

const PRUNE_EVERY = 100;

export class RunService {
  private readonly listeners = new Set<(e: ServiceEvent) => void>();
  /** Step progress of running runs: too frequent for the disk, and worthless after a restart. */
  private readonly progress = new Map<string, Progress>();
  private stopping = false;
  private ended = 0;

  constructor(
    readonly store: JobStore,
    readonly runner: Runner,
    private readonly catalog: Catalog,
    private readonly limits: ServiceLimits,
  ) {}

  /** Starts the runner (which recovers what a crash left running) and follows its events. */
  async start(): Promise<void> {
    this.store.prune(this.limits.keepHistory);
    await this.runner.start({
      event: (e, worker, attempt) => this.apply(e, worker, attempt),
      preview: (p) => this.emit(p),
    });
  }

  on(listener: (e: ServiceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: ServiceEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // one broken listener (a socket that just died) must not stop the others
      }
    }
  }

  /** Validates (every problem, per node), stores the run, hands it to the runner; refuses when the queue is full. */
  async queue(input: unknown, opts: { clientId?: string; targets?: readonly string[] } = {}): Promise<QueueResult> {
    if (this.stopping) {
      return { ok: false, kind: 'stopping', message: 'the server is shutting down; queue the run after it restarts' };
    }
    if (this.store.queuedCount() >= this.limits.maxQueue) {
      return {
        ok: false,
        kind: 'queueFull',
        message: `the queue is full (${this.limits.maxQueue} runs waiting); wait for runs to finish or clear the queue`,
      };
    }
    const v = validateWorkflow(input, this.catalog, { requireOutputs: opts.targets === undefined });
    if (!v.ok) return { ok: false, kind: 'invalid', problems: v.problems };
    const modelProblems = await this.modelProblems(v.workflow);
    if (modelProblems.length > 0) return { ok: false, kind: 'invalid', problems: modelProblems };
    const tooLarge = runCostProblems(v.workflow, this.catalog, this.limits.runCost);
    if (tooLarge.length > 0) return { ok: false, kind: 'invalid', problems: tooLarge };
    const targetProblems = (opts.targets ?? [])
      .filter((t) => !Object.hasOwn(v.workflow.nodes, t))
      .map(
        (t): Problem => ({ code: 'unknownTarget', message: `target node "${t}" is not in the workflow`, nodeId: t }),
      );
    if (targetProblems.length > 0) return { ok: false, kind: 'invalid', problems: targetProblems };
    const runId = crypto.randomUUID();
    // On disk before the answer: from here on, no crash loses the run.
    this.store.insert({
      runId,
      workflow: v.workflow,
      queuedAt: Date.now(),
      ...(opts.targets ? { targets: opts.targets } : {}),
      ...(opts.clientId === undefined ? {} : { clientId: opts.clientId }),
    });
    this.emit({ type: 'runQueued', runId, position: this.store.queuedCount() - 1 });
    try {
      await this.runner.submitted(runId);
    } catch (err) {
      this.store.remove(runId);
      this.emit({ type: 'runInterrupted', runId });
      return { ok: false, kind: 'unavailable', message: `the run could not be queued: ${(err as Error).message}` };
    }
    return { ok: true, runId, migrations: v.migrations };
  }

  /** Every problem of a workflow, without queueing it (the editor paints them on the nodes). */
  async validate(input: unknown): Promise<{ ok: boolean; problems: Problem[] }> {
    const v = validateWorkflow(input, this.catalog, { requireOutputs: true });
    if (!v.ok) return { ok: false, problems: v.problems };
    const problems = await this.modelProblems(v.workflow);
    return { ok: problems.length === 0, problems };
  }

  /** A model that isn't there, or an image size its VAE can't make, named before the run is queued. */
  private async modelProblems(workflow: Workflow): Promise<Problem[]> {
    const available = await this.limits.models?.();
    return available ? modelProblems(workflow, this.catalog, available) : [];
  }

  /**
   * Interrupts a running run, or drops a queued one; without a run id, every running run. `at` says where the
   * run stood (node and step) when the interrupt arrived.
   */
  async interrupt(
    runId?: string,
  ): Promise<{ interrupted: boolean; at?: { runId: string; nodeId: string; value?: number; max?: number } }> {
    const targets = runId === undefined ? this.store.running() : [this.store.get(runId)].filter((r) => r !== undefined);
    let interrupted = false;
    let at: { runId: string; nodeId: string; value?: number; max?: number } | undefined;
    for (const run of targets) {
      if (run.status === 'queued') {
        await this.drop([run.runId]);
        interrupted = true;
        continue;
      }
      if (run.status !== 'running') continue;
      const where = this.runningNode(run);
      const answer = await this.runner.interrupt(run.runId);
      interrupted ||= answer.interrupted;
      if (where && answer.interrupted) {
        // The worker's own step count: progress events still in flight would make `at` look earlier than it was.
        if (where.value !== undefined && answer.step !== undefined) where.value = Math.max(where.value, answer.step);
        at ??= where;
      }
    }
    return { interrupted, ...(at ? { at } : {}) };
  }

  /** Drops every queued run that has not started; each gets runInterrupted. */
  async clearQueue(): Promise<string[]> {
    const runIds = this.store.queued().map((r) => r.runId);
    const dropped = await this.drop(runIds);
    this.emit({ type: 'queueCleared', runIds: dropped });
    return dropped;
  }

  private async drop(runIds: readonly string[]): Promise<string[]> {
    const dropped = runIds.filter((id) => this.store.get(id)?.status === 'queued');
    await this.runner.dropped(dropped);
    const ended = dropped.filter((id) => this.store.finish(id, { status: 'interrupted' }));
    for (const runId of ended) this.emit({ type: 'runInterrupted', runId });
    return ended;
  }

  /** The queue, every running run with its node states, and the latest ended runs. */
  snapshot(historyLimit = 50): Snapshot {
    const active = this.store.running().map((r) => this.toRunning(r));
    return {
      queue: this.store.queued().map(toQueued),
      running: active[0] ?? null,
      active,
      history: historyLimit > 0 ? this.store.history({ limit: historyLimit }).runs.map(toFinished) : [],
    };
  }

  history(opts: { limit: number; before?: string }): { runs: FinishedRun[]; next?: string } {
    const page: HistoryPage = this.store.history(opts);
    return { runs: page.runs.map(toFinished), ...(page.next ? { next: page.next } : {}) };
  }

  /** One run, queued, running or ended, with its workflow. */
  describe(runId: string): Record<string, unknown> | undefined {
    const run = this.store.get(runId);
    if (!run) return undefined;
    const job = this.store.job(runId);
    const view = run.status === 'running' ? { ...run, nodeStates: this.toRunning(run).nodeStates } : run;
    return { ...view, ...(job ?? {}) };
  }

  /** Deletes ended runs from the history (all of them without ids); the files stay in the output folder. */
  deleteHistory(runIds?: readonly string[]): string[] {
    const deleted = this.store.deleteHistory(runIds);
    if (deleted.length > 0) this.emit({ type: 'historyDeleted', runIds: deleted });
    return deleted;
  }

  workers(): Promise<WorkerInfo[]> {
    return this.runner.workers();
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Stops taking runs and tells every client; running runs get `graceMs` to finish, then are interrupted back into
   * the queue. Queued runs stay queued: everything resumes after a restart.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.emit({ type: 'serverStopping', graceMs });
    await this.runner.stop(graceMs);
  }

  /** A runner's event: the store records node boundaries and run ends, memory keeps step progress. */
  private apply(e: RunEvent, worker: string, attempt?: number): void {
    const now = Date.now();
    const store = this.store;
    switch (e.type) {
      case 'runQueued':
        this.progress.delete(e.runId);
        break;
      case 'runStarted':
        store.started(e.runId, e.nodes, worker, attempt, now);
        this.progress.set(e.runId, {});
        break;
      case 'nodeStarted':
        store.setNode(e.runId, e.nodeId, { status: 'running', files: [] });
        break;
      case 'nodeProgress': {
        const p = this.progress.get(e.runId);
        if (p) p[e.nodeId] = { value: e.value, max: e.max };
        break;
      }
      case 'nodeCached':
        store.setNode(e.runId, e.nodeId, { status: 'cached', files: [] });
        break;
      case 'nodeFinished':
        delete this.progress.get(e.runId)?.[e.nodeId];
        store.setNode(e.runId, e.nodeId, {
          status: 'finished',
          wallMs: e.wallMs,
          files: e.files,
          ...(e.peakBytes === undefined ? {} : { peakBytes: e.peakBytes }),
        });
        break;
      case 'nodeFailed':
        store.setNode(e.runId, e.nodeId, {
          status: 'failed',
          error: e.error,
          files: [],
          ...(e.port === undefined ? {} : { port: e.port }),
          ...(e.param === undefined ? {} : { param: e.param }),
        });
        break;
      case 'runFinished':
      case 'runFailed':
      case 'runInterrupted': {
        this.progress.delete(e.runId);
        const end =
          e.type === 'runFinished'
            ? { status: 'finished' as const, wallMs: e.wallMs, files: e.files }
            : e.type === 'runFailed'
              ? { status: 'failed' as const, error: e.error, ...(e.nodeId === undefined ? {} : { nodeId: e.nodeId }) }
              : { status: 'interrupted' as const, ...(e.nodeId === undefined ? {} : { nodeId: e.nodeId }) };
        // Each run ends once: a late duplicate (a worker that lost its lease) is not told to clients again.
        if (!store.finish(e.runId, end, now)) return;
        if (++this.ended % PRUNE_EVERY === 0) store.prune(this.limits.keepHistory);
        break;
      }
    }
    this.emit(e);
  }

  private toRunning(r: StoredRun): RunningRun {
    const progress = this.progress.get(r.runId) ?? {};
    const nodeStates = { ...r.nodeStates };
    for (const [nodeId, p] of Object.entries(progress)) {
      const state = nodeStates[nodeId];
      if (state?.status === 'running') nodeStates[nodeId] = { ...state, ...p };
    }
    return { ...toQueued(r), startedAt: r.startedAt ?? r.queuedAt, nodes: r.nodes, nodeStates };
  }

  /** The latest step of a running node (what a preview belongs to). */
  stepOf(runId: string, nodeId: string): number | undefined {
    return this.progress.get(runId)?.[nodeId]?.value;
  }

  private runningNode(r: StoredRun): { runId: string; nodeId: string; value?: number; max?: number } | undefined {
    const entry = Object.entries(this.toRunning(r).nodeStates).find(([, n]) => n.status === 'running');
    if (!entry) return undefined;
    const [nodeId, n] = entry;
    return { runId: r.runId, nodeId, ...(n.value === undefined ? {} : { value: n.value, max: n.max }) };
  }
}

function toQueued(r: StoredRun): QueuedRun {
  return {
    runId: r.runId,
    queuedAt: r.queuedAt,
    ...(r.clientId === undefined ? {} : { clientId: r.clientId }),
    ...(r.name === undefined ? {} : { name: r.name }),
    ...(r.attempts > 0 ? { attempts: r.attempts } : {}),
    ...(r.worker === undefined ? {} : { worker: r.worker }),
  };
}

export function toFinished(r: StoredRun): FinishedRun {
  return {
    ...toQueued(r),
    status: r.status === 'queued' || r.status === 'running' ? 'interrupted' : r.status,
    finishedAt: r.finishedAt ?? Date.now(),
    files: r.files,
    nodeStates: r.nodeStates,
    ...(r.startedAt === undefined ? {} : { startedAt: r.startedAt }),
    ...(r.wallMs === undefined ? {} : { wallMs: r.wallMs }),
    ...(r.error === undefined ? {} : { error: r.error }),
    ...(r.nodeId === undefined ? {} : { nodeId: r.nodeId }),
  };
}
