// Deterministic pseudo-random weights from (seed, name, dims): the built-in default model and full-size benchmarks.
import type { WeightSource } from './weight-source.ts';

export interface SyntheticSourceOptions {
  seed?: number;
  /** Which optional tensors exist (builders ask `has` for optional biases, name prefixes...). Default: all. */
  has?: (name: string) => boolean;
  description?: string;
}

/**
 * Weights: uniform in ±1/sqrt(fan_in) (fan_in = product of all dims but the first), as torch's default init.
 * Norm weights (1-D `.weight` of a module named like a norm) are 1, every 1-D `.bias` is 0, embeddings ~U(±0.02·√3).
 */
export class SyntheticSource implements WeightSource {
  readonly description: string;
  private readonly seed: number;
  private readonly exists: (name: string) => boolean;
  private readonly seen = new Map<string, number[]>();

  constructor(opts: SyntheticSourceOptions = {}) {
    this.seed = opts.seed ?? 0;
    this.exists = opts.has ?? (() => true);
    this.description = opts.description ?? `synthetic weights (seed ${this.seed})`;
  }

  has(name: string): boolean {
    return this.exists(name);
  }

  /** Only known once a tensor was read (its dims come from the builder). */
  dims(name: string): number[] | undefined {
    return this.seen.get(name);
  }

  read(name: string, expectedDims: readonly number[]): Float32Array {
    if (!this.exists(name)) throw new Error(`${this.description}: missing tensor '${name}'`);
    this.seen.set(name, [...expectedDims]);
    const n = expectedDims.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    if (expectedDims.length === 1) {
      if (name.endsWith('.bias')) return out;
      if (isNorm(name)) return out.fill(1);
    }
    const fanIn = expectedDims.length > 1 ? n / (expectedDims[0] as number) : (expectedDims[0] as number);
    const bound = /embedding/.test(name) ? 0.02 * Math.sqrt(3) : 1 / Math.sqrt(Math.max(1, fanIn));
    fillUniform(out, hash(name) ^ Math.imul(this.seed, 0x9e3779b1), bound);
    return out;
  }
}

function isNorm(name: string): boolean {
  const module = name.slice(0, name.lastIndexOf('.'));
  return /(^|[._])(norm|ln|layer_norm|group_norm)[^.]*$|norm\d*$/i.test(module);
}

/** FNV-1a over the name's UTF-16 code units. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** xorshift32 into [-bound, bound); fast enough for a 2.6B-parameter UNet (seconds). */
function fillUniform(out: Float32Array, seed: number, bound: number): void {
  let x = seed | 0 || 0x12345678;
  const k = bound / 2147483648; // signed int32 -> [-bound, bound)
  const n = out.length;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x * k;
  }
}
