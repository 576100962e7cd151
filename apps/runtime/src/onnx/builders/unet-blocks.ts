// UNet2DConditionModel building blocks as diffusers defines them (resnet.py, transformer_2d.py, attention.py,
// downsampling.py, upsampling.py), all NCHW in the builder's floatType; weight names are the state-dict keys.
import type { GraphBuilder, Value } from '../graph-builder.ts';
import { groupNorm } from '../layers.ts';
import type { Activation, ResnetArch, TransformerArch } from './unet-config.ts';
import {
  biasAdd,
  biasAddFits,
  biasSplitGelu,
  biasSplitGeluFits,
  fusedGroupNormFits,
  fusedGroupNormNhwc,
  layoutConv,
  packedCrossAttention,
  packedSelfAttention,
} from './unet-cuda-ops.ts';
import type { UnetFusions } from './unet-fusions.ts';

/** Transformer2DModel's GroupNorm epsilon is fixed in diffusers, whatever norm_eps says. */
const TRANSFORMER_NORM_EPS = 1e-6;
/** BasicTransformerBlock's LayerNorm epsilon (diffusers' norm_eps default, not read from the UNet config). */
const LAYER_NORM_EPS = 1e-5;

export interface UnetBlockContext {
  readonly g: GraphBuilder;
  readonly groups: number;
  /** Resnet GroupNorm epsilon (config norm_eps). */
  readonly eps: number;
  readonly act: Activation;
  readonly useLinearProjection: boolean;
  /** CUDA contrib ops and layout (all off and NCHW for other targets). */
  readonly fuse: UnetFusions;
}

/** Channel axis of activations in this build's layout. */
export function channelAxis(ctx: UnetBlockContext): number {
  return ctx.fuse.layout === 'nhwc' ? 3 : 1;
}

/** Conv2d in the build's layout; pads as ONNX Conv's [top, left, bottom, right]. */
export function conv(
  ctx: UnetBlockContext,
  x: Value,
  prefix: string,
  inC: number,
  outC: number,
  k: number,
  stride: number,
  pads: readonly number[],
  withBias = true,
): Value {
  return layoutConv(ctx.g, ctx.fuse.layout === 'nhwc', x, prefix, inC, outC, k, stride, pads, withBias);
}

/**
 * GroupNorm (+ the block activation when `act`) in the build's layout, with `add` [B, C] (a resnet's projected time
 * embedding) added to x first. Fused CUDA kernels where the build asks for them and the shape fits.
 */
export function normAct(
  ctx: UnetBlockContext,
  x: Value,
  prefix: string,
  channels: number,
  eps: number,
  act: boolean,
  add?: Value,
  bias?: Value,
): Value {
  const { g, groups, fuse } = ctx;
  const nhwc = fuse.layout === 'nhwc';
  if (fuse.groupNorm && fusedGroupNormFits(channels, groups)) {
    const silu = act && ctx.act === 'silu';
    let input = nhwc ? x : g.op1('Transpose', [x], { perm: [0, 2, 3, 1] });
    let skip: Value | undefined;
    if (add && fuse.skipGroupNorm) skip = add;
    else if (add) input = g.op1('Add', [input, g.op1('Unsqueeze', [add, g.constInt64([1, 2])])]);
    if (bias && !skip) throw new Error(`${prefix}: a folded bias needs SkipGroupNorm`);
    let y = fusedGroupNormNhwc(g, input, prefix, groups, channels, eps, silu, skip, bias);
    if (!nhwc) y = g.op1('Transpose', [y], { perm: [0, 3, 1, 2] });
    return act && !silu ? activation(g, y, ctx.act) : y;
  }
  if (bias) throw new Error(`${prefix}: a folded bias needs the fused group norm`);
  let input = nhwc ? g.op1('Transpose', [x], { perm: [0, 3, 1, 2] }) : x;
  if (add) input = g.op1('Add', [input, g.op1('Unsqueeze', [add, g.constInt64([2, 3])])]);
  // the one place the UNet emits plain-ONNX group norm; statistics stay fp32 in fp16 builds
  let y = groupNorm(g, input, prefix, groups, channels, eps, { fp32Stats: true });
  if (act) y = activation(g, y, ctx.act);
  return nhwc ? g.op1('Transpose', [y], { perm: [0, 2, 3, 1] }) : y;
}

export function activation(g: GraphBuilder, x: Value, act: Activation): Value {
  switch (act) {
    case 'silu':
      return g.silu(x);
    case 'gelu':
      return g.gelu(x);
    case 'relu':
      return g.op1('Relu', [x]);
    case 'mish':
      return g.op1('Mul', [x, g.op1('Tanh', [g.op1('Softplus', [x])])]);
  }
}

/** ResnetBlock2D ("default" time embedding norm); tembAct is act(emb), shared by every resnet of a graph. */
export function resnetBlock(ctx: UnetBlockContext, x: Value, tembAct: Value, r: ResnetArch, tembDim: number): Value {
  const { g, eps, groups, fuse } = ctx;
  const p = r.prefix;
  // conv1's bias rides in norm2's SkipGroupNorm, conv2's (+ the shortcut's) in the residual's BiasAdd
  const fold1 = fuse.foldConvBias && fuse.skipGroupNorm && fusedGroupNormFits(r.outC, groups);
  const fold2 = fuse.foldConvBias && fuse.biasAdd && biasAddFits(r.outC);
  let h = normAct(ctx, x, `${p}.norm1`, r.inC, eps, true);
  h = conv(ctx, h, `${p}.conv1`, r.inC, r.outC, 3, 1, [1, 1, 1, 1], !fold1);
  const t = g.linear(tembAct, `${p}.time_emb_proj`, tembDim, r.outC);
  const bias1 = fold1 ? g.param(`${p}.conv1.bias`, [r.outC]) : undefined;
  h = normAct(ctx, h, `${p}.norm2`, r.outC, eps, true, t, bias1);
  h = conv(ctx, h, `${p}.conv2`, r.outC, r.outC, 3, 1, [1, 1, 1, 1], !fold2);
  const hasShortcut = r.inC !== r.outC;
  const shortcut = hasShortcut ? conv(ctx, x, `${p}.conv_shortcut`, r.inC, r.outC, 1, 1, [0, 0, 0, 0], !fold2) : x;
  let sum: Value;
  if (fold2) {
    const bias = hasShortcut
      ? summedBias(g, [`${p}.conv2.bias`, `${p}.conv_shortcut.bias`], r.outC)
      : `${p}.conv2.bias`;
    const tokens = (v: Value) => g.op1('Reshape', [v, g.constInt64([0, -1, r.outC])]);
    sum = g.op1('Reshape', [biasAdd(g, tokens(h), bias, tokens(shortcut), r.outC), g.op1('Shape', [shortcut])]);
  } else {
    sum = g.op1('Add', [shortcut, h]);
  }
  return r.outputScale === 1 ? sum : g.op1('Div', [sum, g.constFloat(r.outputScale)]);
}

/** One bias vector that is the sum of several [C] biases (two convs feeding one add). */
function summedBias(g: GraphBuilder, names: readonly string[], channels: number): Value {
  const sum = new Float32Array(channels);
  for (const name of names) {
    const b = g.weights.read(name, [channels]);
    for (let i = 0; i < channels; i++) sum[i] = (sum[i] as number) + (b[i] as number);
  }
  return g.weightFromArray(`${names[0]}+summed`, sum, [channels]);
}

/** Transformer2DModel on continuous input: GroupNorm, proj_in, BasicTransformerBlocks, proj_out, residual. */
export function transformer2d(ctx: UnetBlockContext, x: Value, ehs: Value, t: TransformerArch): Value {
  const { g, fuse } = ctx;
  const C = t.channels;
  const inner = t.heads * t.headDim;
  const nhwc = fuse.layout === 'nhwc';
  const normed = normAct(ctx, x, `${t.prefix}.norm`, C, TRANSFORMER_NORM_EPS, false);
  // [B, C, H, W] -> [B, HW, C]; channels-last is already token-major, so only a reshape
  const toTokens = (v: Value, ch: number) => {
    const flat = g.op1('Reshape', [v, g.constInt64(nhwc ? [0, -1, ch] : [0, ch, -1])]);
    return nhwc ? flat : g.op1('Transpose', [flat], { perm: [0, 2, 1] });
  };
  const fromTokens = (v: Value, like: Value) =>
    g.op1('Reshape', [nhwc ? v : g.op1('Transpose', [v], { perm: [0, 2, 1] }), g.op1('Shape', [like])]);
  let h: Residual;
  let projected: Value | undefined;
  if (ctx.useLinearProjection) {
    h = { sum: g.linear(toTokens(normed, C), `${t.prefix}.proj_in`, C, inner) };
  } else {
    projected = conv(ctx, normed, `${t.prefix}.proj_in`, C, inner, 1, 1, [0, 0, 0, 0]);
    h = { sum: toTokens(projected, inner) };
  }
  for (let i = 0; i < t.depth; i++) h = basicTransformerBlock(ctx, h, ehs, `${t.prefix}.transformer_blocks.${i}`, t);
  const hidden = settle(ctx, h, inner);
  if (!ctx.useLinearProjection) {
    const out = conv(ctx, fromTokens(hidden, projected as Value), `${t.prefix}.proj_out`, inner, C, 1, 1, [0, 0, 0, 0]);
    return g.op1('Add', [out, x]);
  }
  if (nhwc && fuse.biasAdd && biasAddFits(C)) {
    // proj_out's bias + the outer residual in one pass; x's token view is a free reshape in NHWC
    const y = g.linear(hidden, `${t.prefix}.proj_out`, inner, C, false);
    const skip = g.op1('Reshape', [x, g.constInt64([0, -1, C])]);
    return fromTokens(biasAdd(g, y, `${t.prefix}.proj_out.bias`, skip, C), x);
  }
  return g.op1('Add', [fromTokens(g.linear(hidden, `${t.prefix}.proj_out`, inner, C), x), x]);
}

/**
 * The transformer's token stream between blocks: a value, or one still owing a feed-forward's net.2 bias and
 * residual add (out + bias + skip), left open so the next block's norm1 or a BiasAdd can take them in one kernel.
 */
type Residual = { sum: Value } | { out: Value; bias: string; skip: Value };

/** Closes an open residual: com.microsoft.BiasAdd where the build asks for it and the width fits, else two Adds. */
function settle(ctx: UnetBlockContext, r: Residual, dim: number): Value {
  const { g } = ctx;
  if ('sum' in r) return r.sum;
  if (ctx.fuse.biasAdd && biasAddFits(dim)) return biasAdd(g, r.out, r.bias, r.skip, dim);
  return g.op1('Add', [g.op1('Add', [r.out, g.param(r.bias, [dim])]), r.skip]);
}

/** BasicTransformerBlock (layer_norm): self-attention, cross-attention, GEGLU feed-forward, each pre-norm + residual. */
function basicTransformerBlock(
  ctx: UnetBlockContext,
  input: Residual,
  ehs: Value,
  prefix: string,
  t: TransformerArch,
): Residual {
  const { g, fuse } = ctx;
  const dim = t.heads * t.headDim;
  const packed = fuse.packedQkv;
  let x: Value;
  let n1: Value;
  if (!('sum' in input) && fuse.ffSkipLayerNorm) {
    // the previous block's feed-forward bias + residual add + this norm1 in one kernel
    [n1, x] = skipLayerNorm(g, input.out, input.skip, `${prefix}.norm1`, input.bias, dim);
  } else {
    x = settle(ctx, input, dim);
    n1 = g.layerNorm(x, `${prefix}.norm1`, dim, LAYER_NORM_EPS);
  }
  let h: Value;
  let n3: Value;
  if (fuse.skipLayerNorm) {
    // to_out's bias + residual add + the next LayerNorm in one kernel; its sum output is the next residual
    const a1 = attention(g, n1, n1, `${prefix}.attn1`, dim, dim, t.heads, packed, false);
    const [n2, h1] = skipLayerNorm(g, a1, x, `${prefix}.norm2`, `${prefix}.attn1.to_out.0.bias`, dim);
    const a2 = attention(g, n2, ehs, `${prefix}.attn2`, dim, t.crossDim, t.heads, packed, false);
    [n3, h] = skipLayerNorm(g, a2, h1, `${prefix}.norm3`, `${prefix}.attn2.to_out.0.bias`, dim);
  } else {
    h = g.op1('Add', [attention(g, n1, n1, `${prefix}.attn1`, dim, dim, t.heads, packed), x]);
    const n2 = g.layerNorm(h, `${prefix}.norm2`, dim, LAYER_NORM_EPS);
    h = g.op1('Add', [attention(g, n2, ehs, `${prefix}.attn2`, dim, t.crossDim, t.heads, packed), h]);
    n3 = g.layerNorm(h, `${prefix}.norm3`, dim, LAYER_NORM_EPS);
  }
  // net.2's bias and the residual add are left to whatever follows (settle, or the next block's norm1)
  return { out: geglu(g, n3, `${prefix}.ff`, dim, fuse.biasSplitGelu), bias: `${prefix}.ff.net.2.bias`, skip: h };
}

/** com.microsoft.SkipLayerNormalization: [LayerNorm(x + skip + bias), x + skip + bias]. */
function skipLayerNorm(
  g: GraphBuilder,
  x: Value,
  skip: Value,
  prefix: string,
  bias: string,
  dim: number,
): [Value, Value] {
  const inputs = [x, skip, g.param(`${prefix}.weight`, [dim]), g.param(`${prefix}.bias`, [dim]), g.param(bias, [dim])];
  // outputs 1 and 2 (mean, inverse std) are training outputs the CUDA kernel does not write; only 0 and 3 are used
  const out = g.op(
    'SkipLayerNormalization',
    inputs,
    { epsilon: LAYER_NORM_EPS },
    { domain: 'com.microsoft', outputs: 4 },
  );
  return [out[0] as Value, out[3] as Value];
}

/** diffusers Attention (AttnProcessor2_0): bias-free q/k/v, SDPA with scale 1/sqrt(head_dim), to_out.0 with bias. */
function attention(
  g: GraphBuilder,
  x: Value,
  ctxIn: Value,
  prefix: string,
  dim: number,
  ctxDim: number,
  heads: number,
  packed: boolean,
  outBias = true,
): Value {
  if (packed && g.attention === 'mha') {
    const core =
      x === ctxIn
        ? packedSelfAttention(g, x, prefix, dim, heads)
        : packedCrossAttention(g, x, ctxIn, prefix, dim, ctxDim, heads);
    return g.linear(core, `${prefix}.to_out.0`, dim, dim, outBias);
  }
  const q = g.linear(x, `${prefix}.to_q`, dim, dim, false);
  const k = g.linear(ctxIn, `${prefix}.to_k`, ctxDim, dim, false);
  const v = g.linear(ctxIn, `${prefix}.to_v`, ctxDim, dim, false);
  // plain attention: the scale as a constant (diffusers' dim_head ** -0.5), which ONNX Runtime folds with the QK
  // MatMul into one FusedMatMul (its alpha, as diffusers' baddbmm) instead of a pass over the scores; MHA keeps its
  // own default, so its kernel choice stays as measured
  const opts = g.attention === 'mha' ? {} : { scale: 1 / Math.sqrt(dim / heads) };
  return g.linear(g.mha(q, k, v, heads, opts), `${prefix}.to_out.0`, dim, dim, outBias);
}

/** FeedForward(activation_fn="geglu", mult=4): proj -> value * gelu(gate) -> net.2, without net.2's bias. */
function geglu(g: GraphBuilder, x: Value, prefix: string, dim: number, fused: boolean): Value {
  const inner = dim * 4;
  if (fused && biasSplitGeluFits(inner * 2)) {
    return g.linear(biasSplitGelu(g, x, `${prefix}.net.0.proj`, dim, inner), `${prefix}.net.2`, inner, dim, false);
  }
  const proj = g.linear(x, `${prefix}.net.0.proj`, dim, inner * 2);
  const [value, gate] = g.op('Split', [proj, g.constInt64([inner, inner])], { axis: -1 }, { outputs: 2 }) as [
    Value,
    Value,
  ];
  return g.linear(g.op1('Mul', [value, g.gelu(gate)]), `${prefix}.net.2`, inner, dim, false);
}

/** Downsample2D(use_conv): 3x3 stride-2 conv; padding 0 means diffusers' (0, 1, 0, 1) zero pad first. */
export function downsample(ctx: UnetBlockContext, x: Value, prefix: string, channels: number, padding: number): Value {
  const pads = padding > 0 ? [padding, padding, padding, padding] : [0, 0, 1, 1];
  return conv(ctx, x, prefix, channels, channels, 3, 2, pads);
}

/**
 * Upsample2D(use_conv): nearest resize to the next skip's height/width (diffusers' upsample_size; exactly x2
 * when the sample divides evenly), then a 3x3 conv. asymmetric + floor is torch's "nearest".
 */
export function upsample(ctx: UnetBlockContext, x: Value, sizeLike: Value, prefix: string, channels: number): Value {
  const { g } = ctx;
  const dims = (v: Value, from: number, to: number) =>
    g.op1('Slice', [g.op1('Shape', [v]), g.constInt64([from]), g.constInt64([to])]);
  const sizes =
    ctx.fuse.layout === 'nhwc'
      ? g.op1('Concat', [dims(x, 0, 1), dims(sizeLike, 1, 3), dims(x, 3, 4)], { axis: 0 })
      : g.op1('Concat', [dims(x, 0, 2), dims(sizeLike, 2, 4)], { axis: 0 });
  const up = g.op1('Resize', [x, '', '', sizes], {
    mode: 'nearest',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  });
  return conv(ctx, up, prefix, channels, channels, 3, 1, [1, 1, 1, 1]);
}
