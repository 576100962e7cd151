// Deterministic pseudo-random weights from (seed, name, dims): the built-in default model and full-size benchmarks.
import { f32ToF16 } from '../onnx/float16.ts';
import { checkLength, numel, type ReadIntoOptions, rowsCols, type WeightBuffer } from './weight-buffer.ts';
import type { WeightSource } from './weight-source.ts';

export interface SyntheticSourceOptions {
  seed?: number;
  /** Which optional tensors exist (builders ask `has` for optional biases, name prefixes...). Default: all. */
  has?: (name: string) => boolean;
  description?: string;
}

const LEVELS = 65536;
const HALF_ONE = 0x3c00;

/**
 * Weights: uniform in ±1/sqrt(fan_in) (fan_in = product of all dims but the first), as torch's default init, in
 * 65536 evenly spaced levels; norm weights (1-D `.weight` of a module named like a norm) are 1, every 1-D `.bias`
 * is 0, embeddings ~U(±0.02·√3). Element i of a tensor is a counter-based hash of (seed, name, i), so any layout
 * (transposed, float16) is generated in place at memory speed; float16 weights are the float32 ones rounded.
 */
export class SyntheticSource implements WeightSource {
  readonly description: string;
  private readonly seed: number;
  private readonly exists: (name: string) => boolean;
  private readonly seen = new Map<string, number[]>();
  // level tables by bound: a UNet has ~2000 weights but only a handful of distinct fan-ins
  private readonly tables32 = new Map<number, Float32Array>();
  private readonly tables16 = new Map<number, Uint16Array>();

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
    const out = new Float32Array(numel(expectedDims));
    this.readInto(name, expectedDims, { dtype: 'float32', data: out });
    return out;
  }

  readInto(name: string, expectedDims: readonly number[], dst: WeightBuffer, opts: ReadIntoOptions = {}): void {
    if (!this.exists(name)) throw new Error(`${this.description}: missing tensor '${name}'`);
    checkLength(this.description, name, expectedDims, dst);
    this.seen.set(name, [...expectedDims]);
    const n = dst.data.length;
    if (expectedDims.length === 1) {
      if (name.endsWith('.bias')) return void dst.data.fill(0);
      if (isNorm(name)) return void dst.data.fill(dst.dtype === 'float16' ? HALF_ONE : 1);
    }
    const fanIn = expectedDims.length > 1 ? n / (expectedDims[0] as number) : (expectedDims[0] as number);
    const bound = /embedding/.test(name) ? 0.02 * Math.sqrt(3) : 1 / Math.sqrt(Math.max(1, fanIn));
    const key = hash(name) ^ Math.imul(this.seed, 0x9e3779b1); // int32
    const [rows, cols] = opts.transpose ? rowsCols(this.description, name, expectedDims) : [1, n];
    if (dst.dtype === 'float16') fill16(dst.data, this.table16(bound), key, rows, cols);
    else fill32(dst.data, this.table32(bound), key, rows, cols);
  }

  private table32(bound: number): Float32Array {
    let t = this.tables32.get(bound);
    if (!t) {
      t = new Float32Array(LEVELS);
      // symmetric levels strictly inside ±bound: mean 0, std bound/√3 (to 1e-5)
      for (let j = 0; j < LEVELS; j++) t[j] = ((j - (LEVELS - 1) / 2) / (LEVELS / 2)) * bound;
      this.tables32.set(bound, t);
    }
    return t;
  }

  private table16(bound: number): Uint16Array {
    let t = this.tables16.get(bound);
    if (!t) {
      t = f32ToF16(this.table32(bound));
      this.tables16.set(bound, t);
    }
    return t;
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

// Element i of the logical [rows, cols] tensor takes 16 bits of mix(i >> 1, key): the high half for even i, the
// low half for odd i (one hash per two elements). fill16 and fill32 are the same loop, kept apart so each stays
// monomorphic (one typed-array kind per loop is ~1.6x faster in V8). rows = 1: straight; else written transposed.

function fill16(out: Uint16Array, table: Uint16Array, key: number, rows: number, cols: number): void {
  if (rows === 1) {
    let i = 0;
    for (; i + 1 < cols; i += 2) {
      const h = mix(i >> 1, key);
      out[i] = table[h >>> 16] as number;
      out[i + 1] = table[h & 0xffff] as number;
    }
    if (i < cols) out[i] = table[level(i, key)] as number;
  } else if (cols % 2 === 1) {
    let o = 0;
    for (let c = 0; c < cols; c++)
      for (let r = 0, i = c; r < rows; r++, i += cols) out[o++] = table[level(i, key)] as number;
  } else {
    // logical (r, c) and (r, c + 1) share a hash and land in output rows c and c + 1
    for (let c = 0; c < cols; c += 2)
      for (let r = 0, o = c * rows, i = r * cols + c; r < rows; r++, o++, i += cols) {
        const h = mix(i >> 1, key);
        out[o] = table[h >>> 16] as number;
        out[o + rows] = table[h & 0xffff] as number;
      }
  }
}

function fill32(out: Float32Array, table: Float32Array, key: number, rows: number, cols: number): void {
  if (rows === 1) {
    let i = 0;
    for (; i + 1 < cols; i += 2) {
      const h = mix(i >> 1, key);
      out[i] = table[h >>> 16] as number;
      out[i + 1] = table[h & 0xffff] as number;
    }
    if (i < cols) out[i] = table[level(i, key)] as number;
  } else if (cols % 2 === 1) {
    let o = 0;
    for (let c = 0; c < cols; c++)
      for (let r = 0, i = c; r < rows; r++, i += cols) out[o++] = table[level(i, key)] as number;
  } else {
    for (let c = 0; c < cols; c += 2)
      for (let r = 0, o = c * rows, i = r * cols + c; r < rows; r++, o++, i += cols) {
        const h = mix(i >> 1, key);
        out[o] = table[h >>> 16] as number;
        out[o + rows] = table[h & 0xffff] as number;
      }
  }
}

function level(i: number, key: number): number {
  const h = mix(i >> 1, key);
  return i & 1 ? h & 0xffff : h >>> 16;
}

/** A Weyl step then the lowbias32 finalizer: a well-mixed 32-bit hash of (i, key) in a few integer ops. */
function mix(i: number, key: number): number {
  let x = (Math.imul(i, 0x9e3779b1) + key) | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return x ^ (x >>> 16); // int32 (a >>> 0 here would box most results as heap numbers)
}
