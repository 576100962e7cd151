// OrtValues through the C API (ort-capi.ts): tensors over host or device memory, and outputs read back as Tensors.
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import koffi from 'koffi';
import type { OrtCApi } from './ort-capi.ts';
import { outputTensor } from './output-tensor.ts';

export const ARENA_ALLOCATOR = 1;
export const MEM_TYPE_DEFAULT = 0;
/** ONNXTensorElementDataType */
export const ELEMENT = { float32: 1, uint8: 2, int32: 6, int64: 7, float16: 10 } as const;
export const ELEMENT_NAME = new Map<number, string>(Object.entries(ELEMENT).map(([k, v]) => [v, k]));

let cpuMemoryInfo: unknown;
export function cpuInfo(api: OrtCApi): unknown {
  if (!cpuMemoryInfo) {
    const out: unknown[] = [null];
    api.check(
      api.call('CreateCpuMemoryInfo', 'void* F(int type, int memType, _Out_ void** out)', ARENA_ALLOCATOR, 0, out),
      'CreateCpuMemoryInfo',
    );
    cpuMemoryInfo = out[0];
  }
  return cpuMemoryInfo;
}

/** Memory info for an arena allocator's default memory on a device ("Cuda", "Cpu"), for the caller to release. */
export function memoryInfo(api: OrtCApi, name: 'Cuda' | 'Cpu', deviceId: number, what: string): unknown {
  const info: unknown[] = [null];
  api.check(
    api.call(
      'CreateMemoryInfo',
      'void* F(const char* name, int type, int id, int memType, _Out_ void** out)',
      name,
      ARENA_ALLOCATOR,
      deviceId,
      MEM_TYPE_DEFAULT,
      info,
    ),
    what,
  );
  return info[0];
}

/** An OrtValue over `data` without a copy: ORT reads it in later calls, so it must be off V8's moving heap, which
 *  touching `.buffer` guarantees (small typed arrays may live on it until then). */
export function tensorOver(
  api: OrtCApi,
  info: unknown,
  data: ArrayBufferView,
  dims: readonly number[],
  type: number,
): unknown {
  void data.buffer;
  return tensorAt(api, info, data, data.byteLength, dims, type);
}

/** An OrtValue over `bytes` of memory at `data` (a host array, or a device pointer with `info` naming the device),
 *  owned by the caller. */
export function tensorAt(
  api: OrtCApi,
  info: unknown,
  data: unknown,
  bytes: number,
  dims: readonly number[],
  type: number,
): unknown {
  const shape = BigInt64Array.from(dims, BigInt);
  const out: unknown[] = [null];
  api.check(
    api.call(
      'CreateTensorWithDataAsOrtValue',
      'void* F(void* info, void* data, size_t n, const int64_t* shape, size_t dims, int type, _Out_ void** out)',
      info,
      data,
      bytes,
      shape,
      shape.length,
      type,
      out,
    ),
    'CreateTensorWithDataAsOrtValue',
  );
  return out[0];
}

export function dataPointer(api: OrtCApi, value: unknown): unknown {
  const out: unknown[] = [null];
  api.check(api.call('GetTensorMutableData', 'void* F(void* v, _Out_ void** out)', value, out), 'GetTensorMutableData');
  return out[0];
}

/** An output OrtValue (host memory) as a float32 Tensor, copied out. */
export function readTensor(api: OrtCApi, value: unknown, what: string): Tensor {
  const { call, check } = api;
  const info: unknown[] = [null];
  check(call('GetTensorTypeAndShape', 'void* F(void* v, _Out_ void** out)', value, info), what);
  let dims: number[];
  let type: number;
  try {
    const n: number[] = [0];
    check(call('GetDimensionsCount', 'void* F(void* i, _Out_ size_t* n)', info[0], n), what);
    const shape = new BigInt64Array(Number(n[0]));
    check(call('GetDimensions', 'void* F(void* i, int64_t* dims, size_t n)', info[0], shape, shape.length), what);
    dims = Array.from(shape, Number);
    const t: number[] = [0];
    check(call('GetTensorElementType', 'void* F(void* i, _Out_ int* out)', info[0], t), what);
    type = t[0] as number;
  } finally {
    call('ReleaseTensorTypeAndShapeInfo', 'void F(void* i)', info[0]);
  }
  const count = dims.reduce((a, d) => a * d, 1);
  const read = ARRAY[type];
  if (!read) throw new Error(`${what}: unsupported element type ${ELEMENT_NAME.get(type) ?? type}`);
  const bytes = count === 0 ? new ArrayBuffer(0) : koffi.view(dataPointer(api, value), count * read.width).slice(0);
  return outputTensor(ELEMENT_NAME.get(type) ?? '', dims, read.view(bytes), what);
}

/** The element types read back, as typed arrays over a copy of the output's bytes. */
const ARRAY: Record<number, { width: number; view: (b: ArrayBuffer) => ArrayBufferView }> = {
  [ELEMENT.float32]: { width: 4, view: (b) => new Float32Array(b) },
  [ELEMENT.float16]: { width: 2, view: (b) => new Uint16Array(b) },
  [ELEMENT.int32]: { width: 4, view: (b) => new Int32Array(b) },
  [ELEMENT.int64]: { width: 8, view: (b) => new BigInt64Array(b) },
};
