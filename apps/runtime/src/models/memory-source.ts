// A WeightSource over in-memory float32 arrays: for tests and small derived models.
import { fmtDims, sameDims, type WeightSource } from './weight-source.ts';

export class MemorySource implements WeightSource {
  readonly description: string;
  private readonly tensors: Map<string, { dims: number[]; data: Float32Array }>;

  constructor(tensors: Record<string, { dims: readonly number[]; data: Float32Array }>, description = 'memory') {
    this.description = description;
    this.tensors = new Map(Object.entries(tensors).map(([k, t]) => [k, { dims: [...t.dims], data: t.data }]));
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  dims(name: string): number[] | undefined {
    return this.tensors.get(name)?.dims;
  }

  read(name: string, expectedDims: readonly number[]): Float32Array {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`${this.description}: missing tensor '${name}'`);
    if (!sameDims(t.dims, expectedDims))
      throw new Error(
        `${this.description}: tensor '${name}' has shape ${fmtDims(t.dims)}, expected ${fmtDims(expectedDims)}`,
      );
    return t.data;
  }
}
