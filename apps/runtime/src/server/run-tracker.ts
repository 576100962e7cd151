import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type {
  FinishedRun,
  NodeRunState,
  QueuedRun,
  RunEvent,
  RunningRun,
  Snapshot,
} from '@sdflow/nodes/protocol/events.ts';

// Folds run events into what clients ask for: the queue, the running run with node progress, recent history.

export type RunStatus = 'queued' | 'running' | FinishedRun['status'];

export interface RunRecord {
  readonly runId: string;
  readonly clientId?: string;
  readonly name?: string;
  readonly queuedAt: number;
  readonly workflow: Workflow;
  status: RunStatus;
  startedAt?: number;
  finishedAt?: number;
  wallMs?: number;
  /** Planned nodes in execution order (known from runStarted). */
  nodes: string[];
  nodeStates: Record<string, NodeRunState>;
  files: string[];
  error?: string;
  nodeId?: string;
}

export class RunTracker {
  private readonly runs = new Map<string, RunRecord>();
  /** Queued and running run ids, in queue order. */
  private readonly active: string[] = [];
  /** Finished run ids, oldest first. */
  private readonly done: string[] = [];

  constructor(private readonly maxHistory: number) {}

  /** Registers a run when it is accepted, before any engine event, so the queue is never stale. */
  accepted(runId: string, workflow: Workflow, clientId?: string, now = Date.now()): void {
    if (this.runs.has(runId)) return;
    const name = workflow.meta?.name;
    this.runs.set(runId, {
      runId,
      ...(clientId === undefined ? {} : { clientId }),
      ...(name === undefined ? {} : { name }),
      queuedAt: now,
      workflow,
      status: 'queued',
      nodes: [],
      nodeStates: {},
      files: [],
    });
    this.active.push(runId);
  }

  /** Drops a run the engine refused to take. */
  forget(runId: string): void {
    this.runs.delete(runId);
    const i = this.active.indexOf(runId);
    if (i !== -1) this.active.splice(i, 1);
  }

  get(runId: string): RunRecord | undefined {
    return this.runs.get(runId);
  }

  get queuedCount(): number {
    return this.queued().length;
  }

  queued(): RunRecord[] {
    return this.active.map((id) => this.runs.get(id)!).filter((r) => r.status === 'queued');
  }

  running(): RunRecord | undefined {
    return this.active.map((id) => this.runs.get(id)!).find((r) => r.status === 'running');
  }

  /** Finished runs, newest first. */
  history(limit = this.maxHistory): RunRecord[] {
    return this.done
      .slice(-limit)
      .reverse()
      .map((id) => this.runs.get(id)!);
  }

  snapshot(historyLimit = 50): Snapshot {
    const running = this.running();
    return {
      queue: this.queued().map(toQueued),
      running: running ? toRunning(running) : null,
      active: running ? [toRunning(running)] : [],
      history: this.history(historyLimit).map(toFinished),
    };
  }

  apply(e: RunEvent, now = Date.now()): void {
    const r = this.runs.get(e.runId);
    if (!r || (r.status !== 'queued' && r.status !== 'running')) return;
    const node = (id: string): NodeRunState => (r.nodeStates[id] ??= { status: 'running', files: [] });
    switch (e.type) {
      case 'runQueued':
        return;
      case 'runStarted':
        r.status = 'running';
        r.startedAt = now;
        r.nodes = [...e.nodes];
        for (const id of e.nodes) r.nodeStates[id] = { status: 'pending', files: [] };
        return;
      case 'nodeStarted':
        r.nodeStates[e.nodeId] = { status: 'running', files: [] };
        return;
      case 'nodeProgress':
        Object.assign(node(e.nodeId), { value: e.value, max: e.max });
        return;
      case 'nodeCached':
        r.nodeStates[e.nodeId] = { status: 'cached', files: [] };
        return;
      case 'nodeFinished':
        Object.assign(node(e.nodeId), {
          status: 'finished',
          wallMs: e.wallMs,
          files: e.files,
          ...(e.peakBytes === undefined ? {} : { peakBytes: e.peakBytes }),
        });
        return;
      case 'nodeFailed':
        Object.assign(node(e.nodeId), {
          status: 'failed',
          error: e.error,
          ...(e.port === undefined ? {} : { port: e.port }),
          ...(e.param === undefined ? {} : { param: e.param }),
        });
        return;
      case 'runFinished':
        Object.assign(r, { status: 'finished', wallMs: e.wallMs, files: e.files });
        this.finish(r, now);
        return;
      case 'runFailed':
        Object.assign(r, { status: 'failed', error: e.error, ...(e.nodeId === undefined ? {} : { nodeId: e.nodeId }) });
        this.finish(r, now);
        return;
      case 'runInterrupted':
        r.status = 'interrupted';
        if (e.nodeId !== undefined) {
          r.nodeId = e.nodeId;
          node(e.nodeId).status = 'interrupted';
        }
        this.finish(r, now);
        return;
    }
  }

  private finish(r: RunRecord, now: number): void {
    r.finishedAt = now;
    if (r.wallMs === undefined && r.startedAt !== undefined) r.wallMs = now - r.startedAt;
    const i = this.active.indexOf(r.runId);
    if (i !== -1) this.active.splice(i, 1);
    this.done.push(r.runId);
    while (this.done.length > this.maxHistory) this.runs.delete(this.done.shift()!);
  }
}

function toQueued(r: RunRecord): QueuedRun {
  return {
    runId: r.runId,
    queuedAt: r.queuedAt,
    ...(r.clientId === undefined ? {} : { clientId: r.clientId }),
    ...(r.name === undefined ? {} : { name: r.name }),
  };
}

function toRunning(r: RunRecord): RunningRun {
  return { ...toQueued(r), startedAt: r.startedAt ?? r.queuedAt, nodes: r.nodes, nodeStates: r.nodeStates };
}

export function toFinished(r: RunRecord): FinishedRun {
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

/** A run as the HTTP API lists it; `withWorkflow` adds the document (GET /api/history/:runId). */
export function describeRun(r: RunRecord, withWorkflow = false): Record<string, unknown> {
  const { workflow, ...rest } = r;
  return withWorkflow ? { ...rest, workflow } : rest;
}
