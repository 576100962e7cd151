// torch.Generator('cpu') reproduced bit for bit: mt19937 + torch's normal sampling on the CPU.

const N = 624;
const M = 397;

/** A generator's whole state, as plain data (it can cross to another thread and go on there). */
export interface GeneratorState {
  readonly mt: Uint32Array;
  readonly index: number;
  readonly nextDoubleNormal: number | null;
}

/** MT19937 seeded as at::mt19937 (seed truncated to 32 bits, Knuth's initialiser). */
class Mt19937 {
  readonly state = new Uint32Array(N);
  index = N;

  constructor(seed: number) {
    const s = this.state;
    s[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = s[i - 1]!;
      const x = prev ^ (prev >>> 30);
      // 1812433253 * x mod 2^32 without losing precision
      s[i] = (Math.imul(1812433253, x) + i) >>> 0;
    }
  }

  nextUint32(): number {
    const s = this.state;
    if (this.index >= N) {
      for (let i = 0; i < N; i++) {
        const y = (s[i]! & 0x80000000) | (s[(i + 1) % N]! & 0x7fffffff);
        let v = s[(i + M) % N]! ^ (y >>> 1);
        if (y & 1) v ^= 0x9908b0df;
        s[i] = v >>> 0;
      }
      this.index = 0;
    }
    let y = s[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

const f = Math.fround;
const TWO_PI_F = f(2 * Math.PI);

/** A CPU generator as torch.Generator('cpu').manual_seed(seed); state carries across draws. */
export class TorchGenerator {
  private engine: Mt19937;
  private nextDoubleNormal: number | null = null;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`torch generator: seed must be an integer, got ${seed}`);
    // manual_seed wraps the seed to 64 bits; mt19937 keeps its low 32 bits
    this.engine = new Mt19937(Number(BigInt.asUintN(64, BigInt(seed)) & 0xffffffffn));
  }

  /** A copy of the state: a generator made from it draws what this one would draw next. */
  state(): GeneratorState {
    const e = this.engine;
    return { mt: Uint32Array.from(e.state), index: e.index, nextDoubleNormal: this.nextDoubleNormal };
  }

  static fromState(s: GeneratorState): TorchGenerator {
    if (s.mt.length !== N || s.index < 0 || s.index > N) throw new Error('torch generator: not an mt19937 state');
    const g = new TorchGenerator(0);
    g.engine.state.set(s.mt);
    g.engine.index = s.index;
    g.nextDoubleNormal = s.nextDoubleNormal;
    return g;
  }

  /** uniform_real_distribution<float>(0, 1): 24 random bits. */
  private uniformFloat(): number {
    return (this.engine.nextUint32() & 0xffffff) / 16777216;
  }

  /** uniform_real_distribution<double>(0, 1): 53 bits of random64() (first draw is the high word). */
  private uniformDouble(): number {
    const hi = this.engine.nextUint32();
    const lo = this.engine.nextUint32();
    // (hi << 32 | lo) & (2^53 - 1)
    return ((hi & 0x1fffff) * 4294967296 + lo) / 9007199254740992;
  }

  /** at::normal_distribution<double>: Box-Muller with one cached value. */
  private normalDouble(): number {
    if (this.nextDoubleNormal !== null) {
      const v = this.nextDoubleNormal;
      this.nextDoubleNormal = null;
      return v;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    this.nextDoubleNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** torch.randn(dims, generator=this) as float32. */
  randn(dims: readonly number[]): Float32Array {
    const size = dims.reduce((a, b) => a * b, 1);
    const out = new Float32Array(size);
    if (size < 16) {
      for (let i = 0; i < size; i++) out[i] = this.normalDouble();
      return out;
    }
    for (let i = 0; i < size; i++) out[i] = this.uniformFloat();
    for (let i = 0; i + 16 <= size; i += 16) normalFill16(out, i);
    if (size % 16 !== 0) {
      // torch redraws and recomputes the last 16 values
      const start = size - 16;
      for (let i = 0; i < 16; i++) out[start + i] = this.uniformFloat();
      normalFill16(out, start);
    }
    return out;
  }
}

/** torch.randn(dims, generator=torch.Generator('cpu').manual_seed(seed)). */
export function torchRandn(dims: readonly number[], seed: number): Float32Array {
  return new TorchGenerator(seed).randn(dims);
}

// torch's AVX2 kernel (normal_fill_16_AVX2): Box-Muller in float32 with avx_mathfun's cephes log/sincos,
// mul+add pairs fused as GCC contracts them under -mfma (without the fusing ~1% of values differ by 1 ulp).
function normalFill16(data: Float32Array, at: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f(1 - data[at + j]!);
    const u2 = data[at + j + 8]!;
    const radius = f(Math.sqrt(f(-2 * logPs(u1))));
    const theta = f(TWO_PI_F * u2);
    const [s, c] = sincosPs(theta);
    data[at + j] = f(radius * c);
    data[at + j + 8] = f(radius * s);
  }
}

const scratch = new Float32Array(1);
const scratchBits = new Int32Array(scratch.buffer);

function floatBits(x: number): number {
  scratch[0] = x;
  return scratchBits[0]!;
}
function bitsFloat(b: number): number {
  scratchBits[0] = b;
  return scratch[0]!;
}

const SQRTHF = f(Math.SQRT1_2);
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);

/** avx_mathfun log256_ps for one lane (x in (0, 1]); mul+add pairs fused as GCC contracts them with -mfma. */
function logPs(xIn: number): number {
  let x = Math.max(xIn, bitsFloat(0x00800000));
  const bits = floatBits(x);
  const imm0 = (bits >>> 23) - 0x7f;
  x = bitsFloat((bits & ~0x7f800000) | floatBits(0.5));
  let e = f(imm0 + 1);
  const lt = x < SQRTHF;
  const tmp = lt ? x : 0;
  x = f(x - 1);
  e = f(e - (lt ? 1 : 0));
  x = f(x + tmp);
  const z = f(x * x);
  let y = LOG_P[0]!;
  for (let k = 1; k < LOG_P.length; k++) y = fma32(y, x, LOG_P[k]!);
  y = f(y * x);
  y = fma32(y, z, f(e * LOG_Q1));
  y = f(y - f(z * 0.5));
  x = f(x + y);
  x = fma32(e, LOG_Q2, x);
  return xIn <= 0 ? Number.NaN : x;
}

const FOPI = f(1.27323954473516);
const DP1 = f(-0.78515625);
const DP2 = f(-2.4187564849853516e-4);
const DP3 = f(-3.774894977445941e-8);
const SIN_P0 = f(-1.9515295891e-4);
const SIN_P1 = f(8.3321608736e-3);
const SIN_P2 = f(-1.6666654611e-1);
const COS_P0 = f(2.443315711809948e-5);
const COS_P1 = f(-1.388731625493765e-3);
const COS_P2 = f(4.166664568298827e-2);

/** avx_mathfun sincos256_ps for one lane; returns [sin, cos]. */
function sincosPs(xIn: number): [number, number] {
  let signSin = xIn < 0 || Object.is(xIn, -0);
  let x = Math.abs(xIn);
  let y = f(x * FOPI);
  let j = Math.trunc(y) | 0;
  j = (j + 1) & ~1;
  y = j;
  const swapSin = (j & 4) !== 0;
  const polyMaskSin = (j & 2) === 0;
  x = fma32(y, DP1, x);
  x = fma32(y, DP2, x);
  x = fma32(y, DP3, x);
  const signCos = (~(j - 2) & 4) !== 0;
  signSin = signSin !== swapSin;
  const z = f(x * x);
  let yc = fma32(COS_P0, z, COS_P1);
  yc = fma32(yc, z, COS_P2);
  yc = f(yc * z);
  yc = fma32(yc, z, -f(z * 0.5));
  yc = f(yc + 1);
  let ys = fma32(SIN_P0, z, SIN_P1);
  ys = fma32(ys, z, SIN_P2);
  ys = f(ys * z);
  ys = fma32(ys, x, x);
  // poly_mask selects the sine polynomial for sin and the cosine polynomial for cos
  const sinVal = polyMaskSin ? ys : yc;
  const cosVal = polyMaskSin ? yc : ys;
  return [signSin ? -sinVal : sinVal, signCos ? -cosVal : cosVal];
}

/** Single-rounded float32 a*b+c (the product of two floats is exact in a double; ties resolved with the two-sum error). */
function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  const r = f(s);
  if (err === 0 || r === s) return r;
  const other = nextFloat(r, s > r ? 1 : -1);
  // s rounded to a float midpoint only matters when the exact sum lies off it
  if (Math.abs(other - s) !== Math.abs(r - s)) return r;
  return err > 0 === other > r ? other : r;
}

function nextFloat(x: number, dir: 1 | -1): number {
  if (x === 0) return dir * bitsFloat(1);
  const b = floatBits(x);
  return bitsFloat(x > 0 === dir > 0 ? b + 1 : b - 1);
}
