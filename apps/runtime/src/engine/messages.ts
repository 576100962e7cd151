import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { RunEvent } from '@sdflow/nodes/protocol/events.ts';
import type { RunResult } from '../executor/execute.ts';
import type { OutputCacheStats } from '../executor/output-cache.ts';
import type { RgbFrame } from './preview-jpeg.ts';

// The two message unions between the Engine (main thread) and its worker. Internal and trusted: both ends
// are this package, so they are plain TypeScript types rather than zod schemas.

/** A module the worker imports and a named export it calls (the backend factory, the catalog). */
export interface ModuleSpec {
  /** Absolute file path, file: URL, or package specifier. */
  readonly module: string;
  readonly export: string;
  /** Structured-cloneable argument passed to a factory export. */
  readonly options?: unknown;
}

export interface WorkerInit {
  /** Factory `(options) => SdxlBackend | Promise<SdxlBackend>`. */
  readonly backend: ModuleSpec;
  /** A catalog object (Record of node type id -> NodeType); default: @sdflow/nodes/catalog.ts `catalog`. */
  readonly catalog?: ModuleSpec;
  readonly cacheBytes?: number;
  /** Int32Array[2] over it: [0] the seq of the run to interrupt, read while kernels hold the thread;
   *  [1] the last progress value the worker emitted, stored before it reads [0]. */
  readonly interruptFlag: SharedArrayBuffer;
}

/** A preview of the image being made: JPEG, encoded on the main thread from the worker's RGB frame. */
export interface PreviewEvent {
  readonly type: 'preview';
  readonly runId: string;
  readonly nodeId: string;
  readonly mime: 'image/jpeg';
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export type RequestOp =
  | { readonly op: 'callBackend'; readonly method: string; readonly args: readonly unknown[] }
  | { readonly op: 'clearCache' }
  | { readonly op: 'backendStats' }
  | { readonly op: 'cacheStats' };

export type MainToWorker =
  | { readonly type: 'init'; readonly init: WorkerInit }
  | {
      readonly type: 'run';
      readonly seq: number;
      readonly runId: string;
      readonly workflow: Workflow;
      readonly targets?: readonly string[];
    }
  | { readonly type: 'interrupt'; readonly seq: number }
  | ({ readonly type: 'request'; readonly id: number } & RequestOp);

export type WorkerToMain =
  | { readonly type: 'ready' }
  | { readonly type: 'initFailed'; readonly error: string }
  | { readonly type: 'event'; readonly event: RunEvent }
  | { readonly type: 'preview'; readonly runId: string; readonly nodeId: string; readonly frame: RgbFrame }
  | { readonly type: 'runDone'; readonly seq: number; readonly result: RunResult }
  | { readonly type: 'response'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'response'; readonly id: number; readonly ok: false; readonly error: string };

/** A backend's counters, as far as it keeps them (GET /api/stats). */
export interface BackendStats {
  readonly store?: unknown;
  readonly stats?: unknown;
  readonly counters?: unknown;
}

export type { OutputCacheStats };
