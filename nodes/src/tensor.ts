// Host tensors as plain data: what flows between nodes and over worker boundaries.
export interface Tensor {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export function tensorSize(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function tensor(dims: readonly number[], data?: Float32Array): Tensor {
  const n = tensorSize(dims);
  const d = data ?? new Float32Array(n);
  if (d.length !== n) throw new Error(`tensor: data length ${d.length} does not match dims [${dims.join(', ')}]`);
  return { dims: [...dims], data: d };
}
