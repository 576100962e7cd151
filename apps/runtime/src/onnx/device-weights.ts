// A session's weights as device tensors it is fed on every run, loaded and freed as a whole (model offload).

import koffi from 'koffi';
import type { HostWeight } from './built-model.ts';
import { type CudaRuntime, cudaRuntime } from './cuda-runtime.ts';
import type { OrtCApi } from './ort-capi.ts';
import {
  ARENA_ALLOCATOR,
  cpuInfo,
  dataPointer,
  ELEMENT,
  MEM_TYPE_DEFAULT,
  pointerAt,
  tensorOver,
} from './ort-values.ts';

const HOST_TO_DEVICE = 1;

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

export interface WeightsTarget {
  device: 'cpu' | 'cuda';
  deviceId?: number;
  label: string;
}

/** On the CPU the host arrays themselves are fed; on CUDA, copies from the session's allocator. */
export function deviceWeights(
  api: OrtCApi,
  session: unknown,
  host: readonly HostWeight[],
  opts: WeightsTarget,
  /** after freeing the weights: gives the allocator's free memory back to the device */
  shrink?: () => void,
): FedWeights {
  const { call, check } = api;
  const bytes = host.reduce((a, w) => a + w.data.byteLength, 0);
  const what = `${opts.label}: loading its weights to ${opts.device}`;
  let values: unknown[] | undefined;
  let allocator: unknown;
  let memInfo: unknown;
  let block: bigint | undefined;
  const release = () => {
    for (const v of values ?? []) call('ReleaseValue', 'void F(void* v)', v);
    values = undefined;
    const cuda = cudaRuntime();
    if (block !== undefined && typeof cuda !== 'string') cuda.free(block);
    block = undefined;
  };
  const weights: FedWeights = {
    bytes,
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
          if (memInfo === undefined) {
            const info: unknown[] = [null];
            check(
              call(
                'CreateMemoryInfo',
                'void* F(const char* name, int type, int id, int memType, _Out_ void** out)',
                'Cuda',
                ARENA_ALLOCATOR,
                opts.deviceId ?? 0,
                MEM_TYPE_DEFAULT,
                info,
              ),
              what,
            );
            memInfo = info[0];
            allocator = sessionAllocator(api, session, memInfo);
          }
          // the session's allocator (its arena: freed weights serve the next component's activations), else one
          // cudaMalloc block per load
          const addresses = allocator ? undefined : deviceBlock(cuda, host, what);
          block = addresses?.block;
          for (const [i, w] of host.entries()) {
            let address: bigint;
            if (allocator) {
              const out: unknown[] = [null];
              const shape = BigInt64Array.from(w.dims, BigInt);
              check(
                call(
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
              made.push(out[0]);
              address = koffi.address(dataPointer(api, out[0]));
            } else {
              address = addresses?.at[i] as bigint;
              made.push(tensorOver(api, memInfo, pointerAt(address), w.dims, ELEMENT[w.dtype], w.data.byteLength));
            }
            const code = cuda.copyToDevice(address, w.data, HOST_TO_DEVICE);
            if (code !== 0) throw new Error(`${what}: copying '${w.name}' failed: ${cuda.errorName(code)}`);
          }
          const code = cuda.synchronize();
          if (code !== 0) throw new Error(`${what}: ${cuda.errorName(code)}`);
        }
      } catch (e) {
        values = made;
        release();
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
      if (allocator) call('ReleaseAllocator', 'void F(void* a)', allocator);
      if (memInfo) call('ReleaseMemoryInfo', 'void F(void* i)', memInfo);
      allocator = memInfo = undefined;
    },
  };
  return weights;
}

/** The session's allocator for `memInfo`, or undefined (with the reason on stderr) where it has none. */
function sessionAllocator(api: OrtCApi, session: unknown, memInfo: unknown): unknown {
  const out: unknown[] = [null];
  try {
    api.check(api.call('CreateAllocator', 'void* F(void* s, void* info, _Out_ void** out)', session, memInfo, out), '');
    return out[0];
  } catch (e) {
    process.stderr.write(
      `sdflow: weights go to cudaMalloc blocks: the session lends no allocator${(e as Error).message}\n`,
    );
    return undefined;
  }
}

/** One device block for all of `host`, each weight at a 256-byte boundary. */
function deviceBlock(cuda: CudaRuntime, host: readonly HostWeight[], what: string): { block: bigint; at: bigint[] } {
  const at: bigint[] = [];
  let end = 0;
  for (const w of host) {
    const offset = Math.ceil(end / 256) * 256;
    at.push(BigInt(offset));
    end = offset + w.data.byteLength;
  }
  const r = cuda.malloc(Math.max(end, 1));
  if ('error' in r) throw new Error(`${what}: cudaMalloc of ${end} bytes failed: ${cuda.errorName(r.error)}`);
  return { block: r.address, at: at.map((o) => r.address + o) };
}
