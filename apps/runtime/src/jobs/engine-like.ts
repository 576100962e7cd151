import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { EngineEvent, EngineSnapshot } from '../engine/engine.ts';
import type { BackendStats } from '../engine/messages.ts';

/** The part of the Engine a runner uses (an interface so tests can drive a runner with a stand-in). */
export interface EngineLike {
  queue(workflow: Workflow, opts?: { targets?: readonly string[]; runId?: string }): string;
  interrupt(runId?: string): boolean;
  snapshot(): EngineSnapshot;
  on(listener: (event: EngineEvent) => void): () => void;
  backendStats(): Promise<BackendStats>;
  cacheStats(): Promise<unknown>;
  close(): Promise<void>;
}
