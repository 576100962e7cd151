import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { EngineEvent } from '../engine/engine.ts';
import type { ModuleSpec } from '../engine/messages.ts';

// The two message unions between a ChildEngine (the server) and its engine host process. Internal and trusted:
// both ends are this package.

export type ToHost =
  | { readonly type: 'start'; readonly backend: ModuleSpec; readonly cacheBytes?: number }
  | {
      readonly type: 'queue';
      readonly runId: string;
      readonly workflow: Workflow;
      readonly targets?: readonly string[];
    }
  | { readonly type: 'interrupt'; readonly runId: string }
  | { readonly type: 'backendStats'; readonly id: number }
  | { readonly type: 'cacheStats'; readonly id: number };

export type FromHost =
  | { readonly type: 'ready' }
  | { readonly type: 'startFailed'; readonly error: string }
  | { readonly type: 'event'; readonly event: EngineEvent }
  | { readonly type: 'interruptedAt'; readonly runId: string; readonly step?: number }
  | { readonly type: 'response'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'response'; readonly id: number; readonly ok: false; readonly error: string };
