import type { GeneratorState } from '../sdxl/torch-rng.ts';

// Messages between the backend and its noise thread (noise-ahead.ts, noise-worker-main.ts): one union per direction.

export type ToNoiseWorker =
  /** draw `count` chunks of `n` normals from `state` on, at most `ahead` before they are taken */
  | {
      readonly type: 'start';
      readonly job: number;
      readonly state: GeneratorState;
      readonly n: number;
      readonly count: number;
      readonly ahead: number;
    }
  /** one chunk was taken: one more may be drawn */
  | { readonly type: 'more'; readonly job: number }
  | { readonly type: 'stop'; readonly job: number };

export type FromNoiseWorker =
  | { readonly type: 'chunk'; readonly job: number; readonly index: number; readonly data: Float32Array }
  | { readonly type: 'failed'; readonly job: number; readonly message: string };
