import type { Tensor } from '@sdflow/nodes/tensor.ts';
import { f16ToF32 } from './float16.ts';

/** An output's elements as the float32 Tensor callers get (float16 converted, ints as numbers); a float32 array is
 *  kept, not copied (the caller's own buffer for this output). */
export function outputTensor(type: string, dims: number[], d: ArrayBufferView, what: string): Tensor {
  if (d instanceof Float32Array) return { dims, data: d };
  if (type === 'float16' && d instanceof Uint16Array) return { dims, data: f16ToF32(d) };
  if (d instanceof BigInt64Array) return { dims, data: Float32Array.from(d, (x) => Number(x)) };
  if (d instanceof Int32Array || d instanceof Uint8Array) return { dims, data: Float32Array.from(d) };
  throw new Error(`unsupported ${what}`);
}
