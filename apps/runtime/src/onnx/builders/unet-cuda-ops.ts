// ONNX Runtime CUDA contrib ops for the UNet and the decoders (com.microsoft domain; no CPU kernels for most of
// them), emitted only when a build asks for them (unet-fusions.ts, decoder-layout.ts). Weight layouts are rearranged
// here at build time.
import type { GraphBuilder, Value } from '../graph-builder.ts';

const MS = { domain: 'com.microsoft' };

/** com.microsoft.NhwcConv: NHWC input, weight stored [out, kH, kW, in] (permuted from torch's [out, in, kH, kW]). */
export function nhwcConv(
  g: GraphBuilder,
  x: Value,
  prefix: string,
  inC: number,
  outC: number,
  k: number,
  stride: number,
  pads: readonly number[],
  withBias = true,
): Value {
  const w = g.weights.read(`${prefix}.weight`, [outC, inC, k, k]);
  const ohwi = new Float32Array(w.length);
  for (let o = 0; o < outC; o++)
    for (let i = 0; i < inC; i++)
      for (let p = 0; p < k * k; p++) ohwi[(o * k * k + p) * inC + i] = w[(o * inC + i) * k * k + p] as number;
  const wv = g.weightFromArray(`${prefix}.weight.ohwi`, ohwi, [outC, k, k, inC]);
  const inputs = withBias ? [x, wv, g.param(`${prefix}.bias`, [outC])] : [x, wv];
  return g.op1('NhwcConv', inputs, { kernel_shape: [k, k], strides: [stride, stride], pads: [...pads] }, MS);
}

/** Conv2d in NHWC (NhwcConv) or NCHW (Conv); pads as ONNX Conv's [top, left, bottom, right]. */
export function layoutConv(
  g: GraphBuilder,
  nhwc: boolean,
  x: Value,
  prefix: string,
  inC: number,
  outC: number,
  k: number,
  stride: number,
  pads: readonly number[],
  withBias = true,
): Value {
  if (nhwc) return nhwcConv(g, x, prefix, inC, outC, k, stride, pads, withBias);
  const w = g.param(`${prefix}.weight`, [outC, inC, k, k]);
  const inputs = withBias ? [x, w, g.param(`${prefix}.bias`, [outC])] : [x, w];
  return g.op1('Conv', inputs, { kernel_shape: [k, k], strides: [stride, stride], pads: [...pads] });
}

/** A stride-1 `k` x `k` Conv2d with same padding, in the context's layout (the decoders' convolutions). */
export function sameConv(
  ctx: { readonly g: GraphBuilder; readonly nhwc?: boolean },
  x: Value,
  prefix: string,
  inC: number,
  outC: number,
  k: number,
  withBias = true,
): Value {
  const p = (k - 1) / 2;
  return layoutConv(ctx.g, ctx.nhwc === true, x, prefix, inC, outC, k, 1, [p, p, p, p], withBias);
}

/** The CUDA GroupNorm kernel reads two channels per thread; other shapes keep the plain-ONNX group norm. */
export function fusedGroupNormFits(channels: number, groups: number): boolean {
  return channels % groups === 0 && (channels / groups) % 2 === 0;
}

/**
 * com.microsoft.GroupNorm / SkipGroupNorm on an NHWC tensor (gamma and beta must be float32 for the CUDA kernel).
 * `skip` [B, C] is added to x before normalising (SkipGroupNorm's broadcast form), `silu` fuses the activation.
 */
export function fusedGroupNormNhwc(
  g: GraphBuilder,
  x: Value,
  prefix: string,
  groups: number,
  channels: number,
  eps: number,
  silu: boolean,
  skip?: Value,
  bias?: Value,
): Value {
  const f32 = (v: Value) => (g.floatType === 'float32' ? v : g.cast(v, 'float32'));
  const gamma = f32(g.param(`${prefix}.weight`, [channels]));
  const beta = f32(g.param(`${prefix}.bias`, [channels]));
  const attrs = { epsilon: eps, groups, activation: silu ? 1 : 0, channels_last: 1 };
  if (skip) return g.op1('SkipGroupNorm', bias ? [x, gamma, beta, skip, bias] : [x, gamma, beta, skip], attrs, MS);
  return g.op1('GroupNorm', [x, gamma, beta], attrs, MS);
}

/**
 * Self-attention with packed QKV: one MatMul against [in, heads * 3 * d] (columns per head: q, k, v) reshaped to
 * [B, S, heads, 3, d], MultiHeadAttention's packed-QKV form. Returns [B, S, heads * d] before to_out.
 */
export function packedSelfAttention(g: GraphBuilder, x: Value, prefix: string, dim: number, heads: number): Value {
  const names = ['to_q', 'to_k', 'to_v'].map((n) => `${prefix}.${n}.weight`);
  const w = packHeads(g, names, dim, dim, heads);
  const packed = g.weightFromArray(`${prefix}.to_qkv.packed`, w, [dim, 3 * dim]);
  const qkv = g.op1('Reshape', [g.op1('MatMul', [x, packed]), g.constInt64([0, 0, heads, 3, dim / heads])]);
  return g.op1('MultiHeadAttention', [qkv], { num_heads: heads }, MS);
}

/** Cross-attention with packed KV: q from x, one MatMul of the context to [B, T, heads, 2, d]. */
export function packedCrossAttention(
  g: GraphBuilder,
  x: Value,
  ctx: Value,
  prefix: string,
  dim: number,
  ctxDim: number,
  heads: number,
): Value {
  const q = g.linear(x, `${prefix}.to_q`, dim, dim, false);
  const w = packHeads(g, [`${prefix}.to_k.weight`, `${prefix}.to_v.weight`], dim, ctxDim, heads);
  const packed = g.weightFromArray(`${prefix}.to_kv.packed`, w, [ctxDim, 2 * dim]);
  const kv = g.op1('Reshape', [g.op1('MatMul', [ctx, packed]), g.constInt64([0, 0, heads, 2, dim / heads])]);
  return g.op1('MultiHeadAttention', [q, kv], { num_heads: heads }, MS);
}

/** torch [out, in] weights -> one [in, heads * n * d] MatMul weight whose columns run head by head, then weight. */
function packHeads(g: GraphBuilder, names: string[], dim: number, inDim: number, heads: number): Float32Array {
  const d = dim / heads;
  const n = names.length;
  const width = n * dim;
  const out = new Float32Array(inDim * width);
  names.forEach((name, j) => {
    const w = g.weights.read(name, [dim, inDim]);
    for (let h = 0; h < heads; h++)
      for (let e = 0; e < d; e++) {
        const col = (h * n + j) * d + e;
        const row = (h * d + e) * inDim;
        for (let i = 0; i < inDim; i++) out[i * width + col] = w[row + i] as number;
      }
  });
  return out;
}

/** Widths com.microsoft.BiasSplitGelu's CUDA kernel accepts (its input's last axis). */
export function biasSplitGeluFits(projWidth: number): boolean {
  return projWidth === 2560 || projWidth === 5120 || projWidth === 10240;
}

/** GEGLU's proj without its bias, then BiasSplitGelu(bias): value * gelu(gate), [B, S, inner]. */
export function biasSplitGelu(g: GraphBuilder, x: Value, prefix: string, dim: number, inner: number): Value {
  const proj = g.linear(x, prefix, dim, inner * 2, false);
  return g.op1('BiasSplitGelu', [proj, g.param(`${prefix}.bias`, [inner * 2])], {}, MS);
}

/** Widths com.microsoft.BiasAdd's CUDA kernel accepts (its input's last axis; SDXL's transformers are 640 and 1280). */
export function biasAddFits(channels: number): boolean {
  return channels === 320 || channels === 640 || channels === 1280;
}

/** com.microsoft.BiasAdd: x + bias + skip in one pass; x and skip both [B, S, C], bias (a weight's name or a value) [C]. */
export function biasAdd(g: GraphBuilder, x: Value, bias: string | Value, skip: Value, channels: number): Value {
  const b = typeof bias === 'string' ? g.param(bias, [channels]) : bias;
  return g.op1('BiasAdd', [x, b, skip], {}, MS);
}
