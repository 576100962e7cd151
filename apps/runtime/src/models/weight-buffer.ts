// Where a weight is written in its stored dtype (an external-data chunk of a GraphBuilder), and the conversions
// and transposes that fill it from float32 values or from raw f16 / f32 data.
import { f32ToF16 } from '../onnx/float16.ts';

/** A weight's destination: float32 values, or IEEE half bits for float16. */
export type WeightBuffer = { dtype: 'float32'; data: Float32Array } | { dtype: 'float16'; data: Uint16Array };

export interface ReadIntoOptions {
  /** A 2-D tensor [rows, cols] is written transposed, as [cols, rows] (MatMul's layout for a torch Linear). */
  transpose?: boolean;
}

/** Product of dims (1 for a scalar). */
export function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Throws unless dst holds exactly the tensor's element count (a builder bug, not a weights problem). */
export function checkLength(where: string, name: string, dims: readonly number[], dst: WeightBuffer): void {
  if (dst.data.length !== numel(dims))
    throw new Error(`${where}: tensor '${name}' has ${numel(dims)} elements but its buffer holds ${dst.data.length}`);
}

/** The [rows, cols] of a tensor asked for transposed; throws unless it is 2-D. */
export function rowsCols(where: string, name: string, dims: readonly number[]): [number, number] {
  if (dims.length !== 2) throw new Error(`${where}: tensor '${name}' is ${dims.length}-D; only 2-D tensors transpose`);
  return [dims[0] as number, dims[1] as number];
}

/** float32 values (row-major in dims) into dst, converted to its dtype and transposed when asked. */
export function writeFloat32(
  where: string,
  name: string,
  data: Float32Array,
  dims: readonly number[],
  dst: WeightBuffer,
  opts: ReadIntoOptions = {},
): void {
  checkLength(where, name, dims, dst);
  if (!opts.transpose) {
    if (dst.dtype === 'float32') dst.data.set(data);
    else f32ToF16(data, dst.data);
    return;
  }
  const [rows, cols] = rowsCols(where, name, dims);
  if (dst.dtype === 'float32') transposeInto(data, dst.data, rows, cols);
  else transposeInto(f32ToF16(data), dst.data, rows, cols);
}

/** dst[c * rows + r] = src[r * cols + c], in 32x32 blocks written sequentially (~2x the plain double loop). */
export function transposeInto<T extends Float32Array | Uint16Array>(src: T, dst: T, rows: number, cols: number): void {
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(r0 + B, rows);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(c0 + B, cols);
      for (let c = c0; c < c1; c++)
        for (let r = r0, o = c * rows + r0, i = r0 * cols + c; r < r1; r++, o++, i += cols) dst[o] = src[i] as number;
    }
  }
}
