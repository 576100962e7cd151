import { envSwitch } from './env-switch.ts';

/** SDFLOW_CUDA_GRAPHS=1 replays the resident CUDA UNet as CUDA graphs (backend/unet-graphs.ts). Off by default: 1.2%
 *  a step for a 0.45 s capture per shape (BENCHMARKS.md, sitting AG), and a replay's safety rests on ONNX Runtime
 *  keeping no new lasting buffer in the shared arena between a capture and its replays, which it does not promise.
 *  It also keeps the shared CUDA arena a BFC arena (shared-arena.ts), the allocator those replays were measured on. */
export function cudaGraphsOn(): boolean {
  return envSwitch('SDFLOW_CUDA_GRAPHS', ['0', '1']) === '1';
}
