// Page-locks host memory through CUDA's runtime (cudaHostRegister), so ONNX Runtime's host-to-GPU copies of
// streamed weights go by DMA at the bus's rate instead of through the driver's pageable staging buffer.
// onnxruntime-node can't allocate pinned host memory, so the arrays we feed are registered in place.
import { cudaRuntime } from './cuda-runtime.ts';
import { envSwitch } from './env-switch.ts';

const PORTABLE = 1; // cudaHostRegisterPortable: pinned for every CUDA context, whichever device a session uses
const ALREADY_REGISTERED = 712; // cudaErrorHostMemoryAlreadyRegistered: pages shared with an earlier buffer

/** Buffers page-locked together; release() unlocks them (before the memory is let go). */
export interface HostPin {
  readonly bytes: number;
  /** how long page-locking took */
  readonly ms: number;
  release(): void;
}

export type PinResult = { readonly ok: true; readonly pin: HostPin } | { readonly ok: false; readonly reason: string };

/** Page-locks each distinct buffer behind `arrays`, whole. All or nothing: on a failure the ones done are undone. */
export function pinHostMemory(arrays: Iterable<ArrayBufferView>): PinResult {
  // GPU experiments: streaming from pageable memory, for comparison
  if (envSwitch('SDFLOW_HOST_PINNING', ['0', '1']) === '0') return { ok: false, reason: 'off (SDFLOW_HOST_PINNING=0)' };
  const rt = cudaRuntime();
  if (typeof rt === 'string') return { ok: false, reason: rt };
  const start = performance.now();
  const done: ArrayBufferLike[] = [];
  let bytes = 0;
  const release = () => {
    for (const b of done.splice(0)) rt.hostUnregister(b);
  };
  for (const buf of distinctBuffers(arrays)) {
    const code = rt.hostRegister(buf, buf.byteLength, PORTABLE);
    if (code === ALREADY_REGISTERED) continue;
    if (code !== 0) {
      release();
      return { ok: false, reason: `cudaHostRegister of ${buf.byteLength} bytes failed: ${rt.errorName(code)}` };
    }
    done.push(buf);
    bytes += buf.byteLength;
  }
  return { ok: true, pin: { bytes, ms: performance.now() - start, release } };
}

/** The distinct, non-empty buffers behind views (several weights may share one chunk). */
export function distinctBuffers(arrays: Iterable<ArrayBufferView>): ArrayBufferLike[] {
  const seen = new Set<ArrayBufferLike>();
  for (const a of arrays) if (a.buffer.byteLength > 0) seen.add(a.buffer);
  return [...seen];
}
