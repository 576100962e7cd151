import { describe, expect, it } from 'vitest';
import { MemorySource } from '../models/memory-source.ts';
import { relativeError as relErr } from '../sdxl/testing/references.ts';
import { GraphBuilder } from './graph-builder.ts';
import { createSession } from './session.ts';

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

// Plain-JS attention: q [B,S,H*d], k/v [B,T,H*d].
function attention(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  B: number,
  S: number,
  T: number,
  H: number,
  d: number,
  causal: boolean,
) {
  const out = new Float32Array(B * S * H * d);
  const W = H * d;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < S; i++) {
        const sc: number[] = [];
        for (let j = 0; j < T; j++) {
          let dot = 0;
          for (let e = 0; e < d; e++)
            dot += (q[(b * S + i) * W + h * d + e] as number) * (k[(b * T + j) * W + h * d + e] as number);
          sc.push(causal && j > i ? Number.NEGATIVE_INFINITY : dot / Math.sqrt(d));
        }
        const m = Math.max(...sc);
        const ex = sc.map((x) => Math.exp(x - m));
        const z = ex.reduce((a, c) => a + c, 0);
        for (let e = 0; e < d; e++) {
          let acc = 0;
          for (let j = 0; j < T; j++) acc += ((ex[j] as number) / z) * (v[(b * T + j) * W + h * d + e] as number);
          out[(b * S + i) * W + h * d + e] = acc;
        }
      }
  return out;
}

describe('mha', () => {
  const [B, S, T, H, d] = [2, 7, 5, 3, 4];
  const variants = [
    ['mha', 'cpu'],
    ['matmul', 'cpu'],
    ['mha', 'webgpu'], // causal as an attention_bias input (the WebGPU kernel has no unidirectional)
  ] as const;
  for (const [attention_, target] of variants)
    for (const causal of [false, true]) {
      it(`${attention_} attention (${target} graph) ${causal ? 'causal' : 'full'} matches a reference`, async () => {
        const kv = causal ? S : T;
        const q = rand(B * S * H * d, 1);
        const k = rand(B * kv * H * d, 2);
        const v = rand(B * kv * H * d, 3);
        const b = new GraphBuilder({
          name: 'att',
          precision: 'fp32',
          weights: new MemorySource({}),
          attention: attention_,
          target,
        });
        const y = b.mha(
          b.inputFloat('q', [B, S, H * d]),
          b.inputFloat('k', [B, kv, H * d]),
          b.inputFloat('v', [B, kv, H * d]),
          H,
          { causal },
        );
        b.outputFloat(y, 'y', [B, S, H * d]);
        const s = await createSession(b.build(), { device: 'cpu' });
        const out = await s.run({
          q: { dims: [B, S, H * d], data: q },
          k: { dims: [B, kv, H * d], data: k },
          v: { dims: [B, kv, H * d], data: v },
        });
        await s.release();
        expect(relErr(out.y?.data as Float32Array, attention(q, k, v, B, S, kv, H, d, causal))).toBeLessThan(1e-6);
      });
    }
});

describe('norms and activations', () => {
  async function runOne(
    build: (b: GraphBuilder, x: ReturnType<GraphBuilder['inputFloat']>) => ReturnType<GraphBuilder['silu']>,
    dims: number[],
    x: Float32Array,
    weights: MemorySource,
    outDims: number[],
  ) {
    const b = new GraphBuilder({ name: 'layer', precision: 'fp32', weights });
    b.outputFloat(build(b, b.inputFloat('x', dims)), 'y', outDims);
    const s = await createSession(b.build(), { device: 'cpu' });
    const { y } = await s.run({ x: { dims, data: x } });
    await s.release();
    return y?.data as Float32Array;
  }

  it('groupNorm matches torch.nn.GroupNorm semantics', async () => {
    const [N, C, HW, G] = [2, 6, 5, 3];
    const x = rand(N * C * HW, 7).map((v, i) => v * 3 + (i % 4));
    const w = rand(C, 8);
    const bias = rand(C, 9);
    const ref = new Float32Array(x.length);
    const per = (C / G) * HW;
    for (let n = 0; n < N; n++)
      for (let g = 0; g < G; g++) {
        const o = (n * G + g) * per;
        const seg = x.subarray(o, o + per);
        const mean = seg.reduce((a, c) => a + c, 0) / per;
        const vr = seg.reduce((a, c) => a + (c - mean) ** 2, 0) / per;
        for (let i = 0; i < per; i++) {
          const c = g * (C / G) + Math.floor(i / HW);
          ref[o + i] = (((seg[i] as number) - mean) / Math.sqrt(vr + 1e-5)) * (w[c] as number) + (bias[c] as number);
        }
      }
    const ws = new MemorySource({ 'gn.weight': { dims: [C], data: w }, 'gn.bias': { dims: [C], data: bias } });
    const y = await runOne((b, v) => b.groupNorm(v, 'gn', G, C, 1e-5), [N, C, HW, 1], x, ws, [N, C, HW, 1]);
    expect(relErr(y, ref)).toBeLessThan(1e-6);
  });

  it('layerNorm, gelu, quickGelu and silu match their formulas', async () => {
    const x = rand(12, 11).map((v) => v * 6);
    const w = rand(4, 12);
    const bias = rand(4, 13);
    const ws = new MemorySource({ 'ln.weight': { dims: [4], data: w }, 'ln.bias': { dims: [4], data: bias } });
    const ln = await runOne((b, v) => b.layerNorm(v, 'ln', 4, 1e-5), [3, 4], x, ws, [3, 4]);
    const lnRef = new Float32Array(12);
    for (let r = 0; r < 3; r++) {
      const row = x.subarray(r * 4, r * 4 + 4);
      const m = row.reduce((a, c) => a + c, 0) / 4;
      const vr = row.reduce((a, c) => a + (c - m) ** 2, 0) / 4;
      for (let i = 0; i < 4; i++)
        lnRef[r * 4 + i] = (((row[i] as number) - m) / Math.sqrt(vr + 1e-5)) * (w[i] as number) + (bias[i] as number);
    }
    expect(relErr(ln, lnRef)).toBeLessThan(1e-6);
    const erf = (z: number) => {
      // Abramowitz-Stegun 7.1.26 is too coarse; integrate the series instead (|z| <= 3 here)
      let sum = 0;
      let term = z;
      for (let k = 0; k < 60; k++) {
        sum += term / (2 * k + 1);
        term *= (-z * z) / (k + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * sum;
    };
    const none = new MemorySource({});
    expect(
      relErr(
        await runOne((b, v) => b.gelu(v), [12], x, none, [12]),
        x.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))),
      ),
    ).toBeLessThan(1e-6);
    expect(
      relErr(
        await runOne((b, v) => b.quickGelu(v), [12], x, none, [12]),
        x.map((v) => v / (1 + Math.exp(-1.702 * v))),
      ),
    ).toBeLessThan(1e-6);
    expect(
      relErr(
        await runOne((b, v) => b.silu(v), [12], x, none, [12]),
        x.map((v) => v / (1 + Math.exp(-v))),
      ),
    ).toBeLessThan(1e-6);
  });

  it('conv2d follows torch.nn.Conv2d (stride, padding, bias)', async () => {
    const x = rand(1 * 2 * 4 * 4, 21);
    const w = rand(3 * 2 * 3 * 3, 22);
    const bias = rand(3, 23);
    const ref = new Float32Array(3 * 2 * 2);
    for (let o = 0; o < 3; o++)
      for (let oy = 0; oy < 2; oy++)
        for (let ox = 0; ox < 2; ox++) {
          let acc = bias[o] as number;
          for (let c = 0; c < 2; c++)
            for (let ky = 0; ky < 3; ky++)
              for (let kx = 0; kx < 3; kx++) {
                const iy = oy * 2 - 1 + ky;
                const ix = ox * 2 - 1 + kx;
                if (iy >= 0 && iy < 4 && ix >= 0 && ix < 4)
                  acc += (x[(c * 4 + iy) * 4 + ix] as number) * (w[((o * 2 + c) * 3 + ky) * 3 + kx] as number);
              }
          ref[(o * 2 + oy) * 2 + ox] = acc;
        }
    const ws = new MemorySource({
      'conv.weight': { dims: [3, 2, 3, 3], data: w },
      'conv.bias': { dims: [3], data: bias },
    });
    expect(
      relErr(await runOne((b, v) => b.conv2d(v, 'conv', 2, 3, 3, 2, 1), [1, 2, 4, 4], x, ws, [1, 3, 2, 2]), ref),
    ).toBeLessThan(1e-6);
  });
});
