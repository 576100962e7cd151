import type { Catalog } from '@sdflow/nodes/catalog.ts';
import type { Problem } from '@sdflow/nodes/graph/problem.ts';
import { validateWorkflow } from '@sdflow/nodes/graph/validate.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { RunEvent } from '@sdflow/nodes/protocol/events.ts';
import type { EngineEvent, EngineSnapshot } from '../engine/engine.ts';
import type { PreviewEvent } from '../engine/messages.ts';
import { RunTracker } from './run-tracker.ts';

// Between the transports (HTTP, WebSocket) and the engine: validation, the queue cap, run state, fan-out.

/** The part of the Engine the server uses (an interface so tests can drive the server with a stand-in). */
export interface EngineLike {
  queue(workflow: Workflow, opts?: { targets?: readonly string[]; runId?: string }): string;
  interrupt(runId?: string): boolean;
  clearQueue(): string[];
  snapshot(): EngineSnapshot;
  on(listener: (event: EngineEvent) => void): () => void;
  callBackend<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  cacheStats(): Promise<unknown>;
  close(): Promise<void>;
}

export type QueueResult =
  | { ok: true; runId: string; migrations: string[] }
  | { ok: false; kind: 'invalid'; problems: Problem[] }
  | { ok: false; kind: 'queueFull'; message: string };

export type ServiceEvent = RunEvent | PreviewEvent | { type: 'queueCleared'; runIds: string[] };

export class RunService {
  readonly tracker: RunTracker;
  private readonly listeners = new Set<(e: ServiceEvent) => void>();
  private readonly off: () => void;

  constructor(
    readonly engine: EngineLike,
    private readonly catalog: Catalog,
    private readonly maxQueue: number,
    maxHistory: number,
  ) {
    this.tracker = new RunTracker(maxHistory);
    this.off = engine.on((e) => {
      if (e.type !== 'preview') this.tracker.apply(e);
      this.emit(e);
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

  /** Validates (every problem, per node) and queues; refuses when the queue is full. */
  queue(input: unknown, opts: { clientId?: string; targets?: readonly string[] } = {}): QueueResult {
    if (this.tracker.queuedCount >= this.maxQueue) {
      return {
        ok: false,
        kind: 'queueFull',
        message: `the queue is full (${this.maxQueue} runs waiting); wait for runs to finish or clear the queue`,
      };
    }
    const v = validateWorkflow(input, this.catalog, { requireOutputs: opts.targets === undefined });
    if (!v.ok) return { ok: false, kind: 'invalid', problems: v.problems };
    const targetProblems = (opts.targets ?? [])
      .filter((t) => !Object.hasOwn(v.workflow.nodes, t))
      .map(
        (t): Problem => ({ code: 'unknownTarget', message: `target node "${t}" is not in the workflow`, nodeId: t }),
      );
    if (targetProblems.length > 0) return { ok: false, kind: 'invalid', problems: targetProblems };
    const runId = crypto.randomUUID();
    // Registered before the engine's runQueued event fires, so the tracker knows the run when events arrive.
    this.tracker.accepted(runId, v.workflow, opts.clientId);
    try {
      this.engine.queue(v.workflow, { runId, ...(opts.targets ? { targets: opts.targets } : {}) });
    } catch (err) {
      this.tracker.forget(runId);
      throw err;
    }
    return { ok: true, runId, migrations: v.migrations };
  }

  /** Every problem of a workflow, without queueing it (the editor paints them on the nodes). */
  validate(input: unknown): { ok: boolean; problems: Problem[] } {
    const v = validateWorkflow(input, this.catalog, { requireOutputs: true });
    return v.ok ? { ok: true, problems: [] } : { ok: false, problems: v.problems };
  }

  /** Interrupts the running run (or drops the given queued one). Returns whether anything stopped. */
  interrupt(runId?: string): boolean {
    return this.engine.interrupt(runId);
  }

  clearQueue(): string[] {
    const runIds = this.engine.clearQueue();
    this.emit({ type: 'queueCleared', runIds });
    return runIds;
  }

  close(): void {
    this.off();
    this.listeners.clear();
  }
}
