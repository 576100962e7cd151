// CUDA's runtime library through koffi (FFI), for what onnxruntime-node does not expose: page-locking host memory,
// device buffers of our own and copies into them.
// Loaded on first use; on machines without it, the reason why.
import koffi from 'koffi';

/** Tried in order; SDFLOW_CUDART (a path or a library name) goes first when set. */
const CUDART_NAMES = ['libcudart.so.13', 'libcudart.so.12', 'libcudart.so', 'cudart64_13.dll', 'cudart64_12.dll'];

export interface CudaRuntime {
  /** cudaHostRegister: an error code, 0 for success */
  hostRegister(buf: ArrayBufferLike, bytes: number, flags: number): number;
  hostUnregister(buf: ArrayBufferLike): number;
  errorName(code: number): string;
  /** cudaMemcpy between host arrays and device pointers (koffi pointers, as cudaMalloc or ORT gives them):
   *  an error code, 0 for success */
  memcpy(dst: unknown, src: unknown, bytes: number, kind: CopyKind): number;
  /** cudaMalloc: a device pointer, or an error code */
  malloc(bytes: number): { ptr: unknown } | { code: number };
  free(ptr: unknown): number;
  /** cudaDeviceSynchronize: a copy from pageable memory may still be in flight when cudaMemcpy returns */
  synchronize(): number;
  /** cudaMemGetInfo: the device's free and total bytes, or an error code */
  memInfo(): { free: number; total: number } | { code: number };
}

/** cudaMemcpyKind */
export const HOST_TO_DEVICE = 1;
export const DEVICE_TO_HOST = 2;
export type CopyKind = typeof HOST_TO_DEVICE | typeof DEVICE_TO_HOST;

let loaded: CudaRuntime | string | undefined;

/** The runtime, or why it could not be loaded. */
export function cudaRuntime(): CudaRuntime | string {
  loaded ??= load();
  return loaded;
}

function load(): CudaRuntime | string {
  const names = [process.env.SDFLOW_CUDART, ...CUDART_NAMES].filter((n): n is string => !!n);
  const failures: string[] = [];
  for (const name of names) {
    try {
      return bind(koffi.load(name));
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message}`);
    }
  }
  return `no CUDA runtime library could be loaded (${failures.join('; ')})`;
}

function bind(lib: koffi.IKoffiLib): CudaRuntime {
  const register = lib.func('int cudaHostRegister(void* ptr, size_t size, unsigned int flags)');
  const unregister = lib.func('int cudaHostUnregister(void* ptr)');
  const errorName = lib.func('const char* cudaGetErrorName(int error)');
  const memcpy = lib.func('int cudaMemcpy(void* dst, const void* src, size_t count, int kind)');
  const malloc = lib.func('int cudaMalloc(_Out_ void** ptr, size_t size)');
  const free = lib.func('int cudaFree(void* ptr)');
  const sync = lib.func('int cudaDeviceSynchronize()');
  const memInfo = lib.func('int cudaMemGetInfo(_Out_ size_t* free, _Out_ size_t* total)');
  return {
    hostRegister: (buf, bytes, flags) => register(buf, bytes, flags) as number,
    hostUnregister: (buf) => unregister(buf) as number,
    errorName: (code) => errorName(code) as string,
    memcpy: (dst, src, bytes, kind) => memcpy(dst, src, bytes, kind) as number,
    malloc: (bytes) => {
      const out: unknown[] = [null];
      const code = malloc(out, bytes) as number;
      return code === 0 ? { ptr: out[0] } : { code };
    },
    free: (ptr) => free(ptr) as number,
    synchronize: () => sync() as number,
    memInfo: () => {
      const free: number[] = [0];
      const total: number[] = [0];
      const code = memInfo(free, total) as number;
      return code === 0 ? { free: Number(free[0]), total: Number(total[0]) } : { code };
    },
  };
}
