// A session's weights as device tensors it is fed on every run, loaded and freed as a whole (model offload).
import type { HostWeight } from './built-model.ts';
import { type CudaRuntime, cudaRuntime, HOST_TO_DEVICE } from './cuda-runtime.ts';
import type { DeviceTarget } from './device-target.ts';
import type { OrtCApi } from './ort-capi.ts';
import { cpuInfo, dataPointer, ELEMENT, memoryInfo, tensorOver } from './ort-values.ts';

/** The session's host weights, on its device while loaded. */
export interface DeviceWeights {
  readonly bytes: number;
  readonly loaded: boolean;
  /** Copies every weight to the device (a no-op while loaded). */
  load(): void;
  /** Frees the device copies (to the arena they came from). */
  unload(): void;
}

/** DeviceWeights plus what the session needs: the input names and values to feed, and a final release. */
export interface FedWeights extends DeviceWeights {
  readonly names: readonly string[];
  values(): readonly unknown[];
  close(): void;
}

/** On the CPU the host arrays themselves are fed; on CUDA, copies allocated from the session's allocator (its
 *  arena: freed weights serve the next component's activations). */
export function deviceWeights(
  api: OrtCApi,
  session: unknown,
  host: readonly HostWeight[],
  opts: DeviceTarget,
  /** after freeing the weights: gives the allocator's free memory back to the device */
  shrink?: () => void,
): FedWeights {
  const { call } = api;
  const what = `${opts.label}: loading its weights to ${opts.device}`;
  let values: unknown[] | undefined;
  let allocator: { allocator: unknown; memInfo: unknown } | undefined;
  const release = () => {
    for (const v of values ?? []) call('ReleaseValue', 'void F(void* v)', v);
    values = undefined;
  };
  return {
    bytes: host.reduce((a, w) => a + w.data.byteLength, 0),
    names: host.map((w) => w.name),
    get loaded() {
      return values !== undefined;
    },
    load() {
      if (values) return;
      const made: unknown[] = [];
      try {
        if (opts.device === 'cpu') {
          // the host arrays themselves: they live as long as the session's built model
          for (const w of host) made.push(tensorOver(api, cpuInfo(api), w.data, w.dims, ELEMENT[w.dtype]));
        } else {
          const cuda = cudaRuntime();
          if (typeof cuda === 'string') throw new Error(cuda);
          allocator ??= sessionAllocator(api, session, opts, what);
          for (const w of host) made.push(copyToDevice(api, cuda, allocator.allocator, w, what));
          // a copy from pageable memory may still be in flight when cudaMemcpy returns
          const code = cuda.synchronize();
          if (code !== 0) throw new Error(`${what}: ${cuda.errorName(code)}`);
        }
      } catch (e) {
        for (const v of made) call('ReleaseValue', 'void F(void* v)', v);
        throw e;
      }
      values = made;
    },
    unload() {
      const had = values !== undefined;
      release();
      if (had) shrink?.();
    },
    values: () => {
      if (!values) throw new Error(`${opts.label}: its weights are not loaded`);
      return values;
    },
    close() {
      release();
      if (allocator) {
        call('ReleaseAllocator', 'void F(void* a)', allocator.allocator);
        call('ReleaseMemoryInfo', 'void F(void* i)', allocator.memInfo);
      }
      allocator = undefined;
    },
  };
}

/** A device tensor from `allocator` holding a copy of `w`. */
function copyToDevice(api: OrtCApi, cuda: CudaRuntime, allocator: unknown, w: HostWeight, what: string): unknown {
  const out: unknown[] = [null];
  const shape = BigInt64Array.from(w.dims, BigInt);
  api.check(
    api.call(
      'CreateTensorAsOrtValue',
      'void* F(void* a, const int64_t* shape, size_t n, int type, _Out_ void** out)',
      allocator,
      shape,
      shape.length,
      ELEMENT[w.dtype],
      out,
    ),
    `${what}: '${w.name}'`,
  );
  const code = cuda.memcpy(dataPointer(api, out[0]), w.data, w.data.byteLength, HOST_TO_DEVICE);
  if (code !== 0) {
    api.call('ReleaseValue', 'void F(void* v)', out[0]);
    throw new Error(`${what}: copying '${w.name}' failed: ${cuda.errorName(code)}`);
  }
  return out[0];
}

/** The session's allocator for its device (on CUDA the shared arena, where the session uses it). */
function sessionAllocator(api: OrtCApi, session: unknown, target: DeviceTarget, what: string) {
  const { call, check } = api;
  const info = memoryInfo(api, target.device === 'cuda' ? 'Cuda' : 'Cpu', target.deviceId ?? 0, what);
  const out: unknown[] = [null];
  try {
    check(call('CreateAllocator', 'void* F(void* s, void* info, _Out_ void** out)', session, info, out), what);
  } catch (e) {
    call('ReleaseMemoryInfo', 'void F(void* i)', info);
    throw e;
  }
  return { allocator: out[0], memInfo: info };
}
