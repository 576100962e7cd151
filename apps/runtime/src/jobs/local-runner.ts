import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Catalog } from '@sdflow/nodes/catalog.ts';
import type { RunEvent } from '@sdflow/nodes/protocol/events.ts';
import type { EngineEvent } from '../engine/engine.ts';
import type { EngineLike } from './engine-like.ts';
import type { JobStore } from './job-store.ts';
import { runModels } from './run-models.ts';
import type { InterruptAnswer, Runner, RunnerSink, WorkerInfo } from './runner.ts';

// The embedded runner: one engine per device of this server (`--devices cuda:0,cuda:1`), each running one run at
// a time, taking queued runs from the job store oldest first. When several devices are free, the run goes to one
// that ran its model last, so a model is loaded once per device rather than on every device in turn.

export interface LocalSlot {
  readonly id: string;
  readonly device: string;
  readonly engine: EngineLike;
}

export interface LocalRunnerOptions {
  /** A run left running by a crash is started again at most this many times in all. */
  readonly maxAttempts: number;
  /** The output folder, where files of a crashed attempt are removed before the run starts again. */
  readonly outputDir: string;
  readonly catalog: Catalog;
}

interface Slot extends LocalSlot {
  runId?: string;
  /** Models of the runs it executed, most recent last. */
  models: string[];
  off?: () => void;
}

const ENDS = new Set<RunEvent['type']>(['runFinished', 'runFailed', 'runInterrupted']);
const MODELS_REMEMBERED = 4;

export class LocalRunner implements Runner {
  private readonly slots: Slot[];
  private sink: RunnerSink | undefined;
  private stopping = false;
  /** Runs interrupted by a shutdown: they go back to the queue instead of ending. */
  private readonly requeueing = new Set<string>();
  private readonly idleWaiters = new Set<() => void>();

  constructor(
    private readonly store: JobStore,
    slots: readonly LocalSlot[],
    private readonly opts: LocalRunnerOptions,
  ) {
    if (slots.length === 0) throw new Error('a local runner needs at least one engine');
    this.slots = slots.map((s) => ({ ...s, models: [] }));
  }

  async start(sink: RunnerSink): Promise<void> {
    this.sink = sink;
    // Runs the last process left running died with it: start them again, without the files they half made.
    const { requeued } = this.store.recover(this.opts.maxAttempts);
    await Promise.all(requeued.map((run) => this.removeFiles(Object.values(run.nodeStates).flatMap((n) => n.files))));
    for (const slot of this.slots) slot.off = slot.engine.on((e) => this.onEngineEvent(slot, e));
    this.pump();
  }

  async submitted(): Promise<void> {
    this.pump();
  }

  async interrupt(runId: string): Promise<InterruptAnswer> {
    const slot = this.slots.find((s) => s.runId === runId);
    if (!slot) return { interrupted: false };
    const interrupted = slot.engine.interrupt(runId);
    const step = slot.engine.snapshot().running?.interruptedAtStep;
    return { interrupted, ...(step === undefined ? {} : { step }) };
  }

  async dropped(): Promise<void> {
    // Queued runs live only in the store, which the server already updated.
  }

  async workers(): Promise<WorkerInfo[]> {
    return this.slots.map((s) => ({
      id: s.id,
      device: s.device,
      state: s.runId ? 'busy' : this.stopping ? 'stopping' : 'idle',
      ...(s.runId ? { runId: s.runId } : {}),
      models: [...s.models],
      pid: process.pid,
      lastSeen: Date.now(),
    }));
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    await this.idle(graceMs);
    const busy = this.slots.filter((s) => s.runId !== undefined);
    for (const slot of busy) {
      this.requeueing.add(slot.runId!);
      slot.engine.interrupt(slot.runId);
    }
    // An interrupt lands within a step; give a long step its time, then leave the rest to crash recovery.
    await this.idle(STOP_INTERRUPT_MS);
    for (const slot of this.slots) slot.off?.();
  }

  /** The slots' engines with no run (for closing them only when no native call is under way). */
  idleEngines(): EngineLike[] {
    return this.slots.filter((s) => s.runId === undefined).map((s) => s.engine);
  }

  private idle(ms: number): Promise<void> {
    if (this.slots.every((s) => s.runId === undefined)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idleWaiters.delete(check);
        resolve();
      };
      const check = () => {
        if (this.slots.every((s) => s.runId === undefined)) done();
      };
      const timer = setTimeout(done, ms);
      this.idleWaiters.add(check);
    });
  }

  private onEngineEvent(slot: Slot, e: EngineEvent): void {
    const sink = this.sink!;
    if (e.type === 'preview') {
      sink.preview(e);
      return;
    }
    // The engine's own queue holds at most the one run given to it; the store's queue is the one clients see.
    if (e.type === 'runQueued' || e.runId !== slot.runId) return;
    if (!ENDS.has(e.type)) {
      sink.event(e, slot.id);
      return;
    }
    slot.runId = undefined;
    if (this.requeueing.delete(e.runId) && e.type !== 'runFinished') {
      if (this.store.requeue(e.runId, false)) {
        sink.event({ type: 'runQueued', runId: e.runId, position: 0 }, slot.id);
      }
    } else {
      sink.event(e, slot.id);
    }
    for (const check of [...this.idleWaiters]) check();
    this.pump();
  }

  /** Hands queued runs, oldest first, to free engines. */
  private pump(): void {
    if (!this.sink || this.stopping) return;
    for (;;) {
      const free = this.slots.filter((s) => s.runId === undefined);
      if (free.length === 0) return;
      const [next] = this.store.queued(1);
      if (!next) return;
      const job = this.store.job(next.runId);
      if (!job) continue;
      const models = runModels(job.workflow, this.opts.catalog);
      // A device that holds the run's model; else the one holding the fewest, so loaded models stay where they are.
      const slot =
        free.find((s) => models.some((m) => s.models.includes(m))) ??
        free.reduce((a, b) => (b.models.length < a.models.length ? b : a));
      if (!this.store.claim(next.runId, slot.id)) continue;
      slot.runId = next.runId;
      slot.models = [...slot.models.filter((m) => !models.includes(m)), ...models].slice(-MODELS_REMEMBERED);
      try {
        slot.engine.queue(job.workflow, { runId: next.runId, ...(job.targets ? { targets: job.targets } : {}) });
      } catch (err) {
        slot.runId = undefined;
        const error = `${slot.id} could not take the run: ${(err as Error).message}`;
        this.sink.event({ type: 'runFailed', runId: next.runId, error }, slot.id);
      }
    }
  }

  private async removeFiles(names: readonly string[]): Promise<void> {
    for (const name of names) {
      // Only flat names inside the output folder: a file name from the store never reaches elsewhere.
      if (name !== path.basename(name) || name.startsWith('.')) continue;
      await rm(path.join(this.opts.outputDir, name), { force: true });
    }
  }
}

const STOP_INTERRUPT_MS = 15_000;
