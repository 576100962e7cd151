import type { RunEvent } from '@sdflow/nodes/protocol/events.ts';
import type { PreviewEvent } from '../engine/messages.ts';

// What executes the runs the job store holds: this server's own engines (local-runner.ts) or `sdflow worker`
// processes on a BullMQ queue (redis-runner.ts). The server talks to either through this one interface.

/** Where a runner reports: run events (the store and every client follow them) and previews. */
export interface RunnerSink {
  /** A run event from `worker`. Run-end events are the runner's word that the run ended (exactly once). */
  event(event: RunEvent, worker: string, attempt?: number): void;
  preview(preview: PreviewEvent): void;
}

export interface WorkerInfo {
  readonly id: string;
  readonly device: string;
  readonly state: 'idle' | 'busy' | 'starting' | 'stopping' | 'offline';
  readonly runId?: string;
  /** Models it has run lately (what a run of the same model finds loaded). */
  readonly models: readonly string[];
  readonly host?: string;
  readonly pid?: number;
  /** When it was last heard from (ms since the epoch). */
  readonly lastSeen?: number;
}

export interface InterruptAnswer {
  readonly interrupted: boolean;
  /** The worker's own progress value when the interrupt arrived, when it knows it. */
  readonly step?: number;
}

export interface Runner {
  /** Starts taking runs from the store; the sink hears every event from here on. */
  start(sink: RunnerSink): Promise<void>;
  /** A run was stored as queued: run it when there is room. */
  submitted(runId: string): Promise<void>;
  /** Interrupts a running run (the answer says whether this runner had it). */
  interrupt(runId: string): Promise<InterruptAnswer>;
  /** Queued runs the server dropped (cancelled, cleared): they must not start. */
  dropped(runIds: readonly string[]): Promise<void>;
  workers(): Promise<WorkerInfo[]>;
  /** Stops taking runs; running ones get `graceMs` to finish, then go back to the queue for after a restart. */
  stop(graceMs: number): Promise<void>;
}
