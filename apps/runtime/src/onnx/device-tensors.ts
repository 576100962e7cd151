// Float32 tensors native sessions read and write in place on their device: a denoising loop's state between steps.
import { type CudaRuntime, cudaRuntime, DEVICE_TO_HOST, HOST_TO_DEVICE } from './cuda-runtime.ts';
import type { DeviceTarget } from './device-target.ts';
import type { DeviceTensor } from './native-handles.ts';
import { requireOrtCApi } from './ort-capi.ts';
import { cpuInfo, ELEMENT, memoryInfo, tensorAt, tensorOver } from './ort-values.ts';

export interface DeviceTensors {
  /** An uninitialized float32 tensor. */
  alloc(dims: readonly number[]): DeviceTensor;
  write(t: DeviceTensor, data: Float32Array): void;
  read(t: DeviceTensor): Float32Array;
  /** Frees one tensor alloc gave. */
  free(t: DeviceTensor): void;
  /** Frees every tensor alloc gave. */
  release(): void;
}

/** Tensors in buffers of their own, outside ONNX Runtime's arena: cudaMalloc on CUDA, where a few long-lived
 *  megabytes would otherwise split the arena's large free regions, which the UNet's activations then can't reuse
 *  (BENCHMARKS.md); host arrays on the CPU. */
export function deviceTensors(target: DeviceTarget): DeviceTensors {
  const what = `${target.label}: a tensor on ${target.device}`;
  const api = requireOrtCApi(what);
  // per tensor: its host array (CPU) or device pointer (CUDA), and how to free it
  const made = new Map<unknown, { host?: Float32Array; device?: unknown; free(): void }>();
  let cuda: CudaRuntime | undefined;
  const runtime = () => {
    if (!cuda) {
      const r = cudaRuntime();
      if (typeof r === 'string') throw new Error(`${what}: ${r}`);
      cuda = r;
    }
    return cuda;
  };
  const checked = (code: number, doing: string) => {
    if (code !== 0) throw new Error(`${what}: ${doing} failed: ${runtime().errorName(code)}`);
  };
  const find = (t: DeviceTensor) => {
    const m = made.get(t.value);
    if (!m) throw new Error(`${what}: not a tensor of these (freed?)`);
    return m;
  };
  let cudaInfo: unknown;
  return {
    alloc(dims) {
      const n = dims.reduce((a, d) => a * d, 1);
      let value: unknown;
      if (target.device === 'cpu') {
        const host = new Float32Array(n);
        value = tensorOver(api, cpuInfo(api), host, dims, ELEMENT.float32);
        made.set(value, { host, free: () => api.call('ReleaseValue', 'void F(void* v)', value) });
        return { value, dims: [...dims] };
      }
      const r = runtime().malloc(n * 4);
      if ('code' in r) throw new Error(`${what}: cudaMalloc of ${n * 4} bytes failed: ${runtime().errorName(r.code)}`);
      cudaInfo ??= memoryInfo(api, 'Cuda', target.deviceId ?? 0, what);
      try {
        value = tensorAt(api, cudaInfo, r.ptr, n * 4, dims, ELEMENT.float32);
      } catch (e) {
        runtime().free(r.ptr);
        throw e;
      }
      const free = () => {
        api.call('ReleaseValue', 'void F(void* v)', value);
        runtime().free(r.ptr);
      };
      made.set(value, { device: r.ptr, free });
      return { value, dims: [...dims] };
    },
    write(t, data) {
      const m = find(t);
      const n = t.dims.reduce((a, d) => a * d, 1);
      if (data.length !== n) throw new Error(`${what}: writing ${data.length} values into [${t.dims.join(', ')}]`);
      if (m.host) return void m.host.set(data);
      checked(runtime().memcpy(m.device, data, data.byteLength, HOST_TO_DEVICE), 'copying to the device');
      // a copy from pageable memory may still be in flight when cudaMemcpy returns, and ORT's stream won't wait
      checked(runtime().synchronize(), 'synchronizing');
    },
    read(t) {
      const m = find(t);
      if (m.host) return Float32Array.from(m.host);
      const out = new Float32Array(t.dims.reduce((a, d) => a * d, 1));
      checked(runtime().memcpy(out, m.device, out.byteLength, DEVICE_TO_HOST), 'copying from the device');
      return out;
    },
    free(t) {
      made.get(t.value)?.free();
      made.delete(t.value);
    },
    release() {
      for (const m of made.values()) m.free();
      made.clear();
      if (cudaInfo) api.call('ReleaseMemoryInfo', 'void F(void* i)', cudaInfo);
      cudaInfo = undefined;
    },
  };
}
