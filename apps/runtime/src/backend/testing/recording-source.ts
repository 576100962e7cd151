import { SyntheticSource } from '../../models/synthetic-weights.ts';
import type { WeightSource } from '../../models/weight-source.ts';

// Lets a builder say which tensors it needs: every read is served with synthetic weights and kept.

export interface RecordedTensor {
  readonly dims: number[];
  readonly data: Float32Array;
}

export class RecordingSource implements WeightSource {
  readonly description: string;
  /** name -> tensor, in the order the builder first read them */
  readonly tensors = new Map<string, RecordedTensor>();
  private readonly synthetic: SyntheticSource;

  constructor(seed: number, description = `recorded synthetic weights (seed ${seed})`) {
    this.synthetic = new SyntheticSource({ seed, description });
    this.description = description;
  }

  has(name: string): boolean {
    return this.synthetic.has(name);
  }

  dims(name: string): number[] | undefined {
    return this.tensors.get(name)?.dims;
  }

  read(name: string, expectedDims: readonly number[]): Float32Array {
    const seen = this.tensors.get(name);
    if (seen) {
      const same = seen.dims.length === expectedDims.length && seen.dims.every((d, i) => d === expectedDims[i]);
      if (!same)
        throw new Error(`${this.description}: tensor '${name}' read as [${seen.dims}] and as [${expectedDims}]`);
      return seen.data;
    }
    const data = this.synthetic.read(name, expectedDims);
    this.tensors.set(name, { dims: [...expectedDims], data });
    return data;
  }
}
