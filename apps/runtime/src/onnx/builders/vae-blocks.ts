import type { GraphBuilder, Value } from '../graph-builder.ts';
import { fusedGroupNormNhwc, sameConv } from './unet-cuda-ops.ts';

// The AutoencoderKL building blocks (diffusers' ResnetBlock2D without time embedding, Downsample2D with
// padding 0, Upsample2D, UNetMidBlock2D and its single-head self-attention). All take NCHW in floatType, or NHWC
// when the context says so (CUDA only: NhwcConv and com.microsoft.GroupNorm with SiLU fused, one output per norm
// instead of the plain group norm's and SiLU's several full-size temporaries).

/** Every norm in AutoencoderKL's encoder and decoder uses this epsilon. */
export const VAE_EPS = 1e-6;

export interface VaeBlockContext {
  readonly g: GraphBuilder;
  readonly groups: number;
  /** NHWC with ONNX Runtime's CUDA contrib ops (decoder blocks only) */
  readonly nhwc?: boolean;
}

/** GroupNorm over `channels`, optionally followed by SiLU. */
export function norm(ctx: VaeBlockContext, x: Value, prefix: string, channels: number, silu: boolean): Value {
  const { g, groups } = ctx;
  if (ctx.nhwc) return fusedGroupNormNhwc(g, x, prefix, groups, channels, VAE_EPS, silu);
  const h = g.groupNorm(x, prefix, groups, channels, VAE_EPS);
  return silu ? g.silu(h) : h;
}

/** GroupNorm -> SiLU -> Conv3x3 twice, plus the input (through a 1x1 conv when channels change). */
export function resnetBlock(ctx: VaeBlockContext, x: Value, prefix: string, inC: number, outC: number): Value {
  let h = sameConv(ctx, norm(ctx, x, `${prefix}.norm1`, inC, true), `${prefix}.conv1`, inC, outC, 3);
  h = sameConv(ctx, norm(ctx, h, `${prefix}.norm2`, outC, true), `${prefix}.conv2`, outC, outC, 3);
  const shortcut = inC !== outC ? sameConv(ctx, x, `${prefix}.conv_shortcut`, inC, outC, 1) : x;
  return ctx.g.op1('Add', [shortcut, h]);
}

/** Downsample2D(padding=0): zero-pad right and bottom by one, then a 3x3 stride-2 conv (one Conv with asymmetric pads). */
export function downsample(ctx: VaeBlockContext, x: Value, prefix: string, channels: number): Value {
  const { g } = ctx;
  const w = g.param(`${prefix}.conv.weight`, [channels, channels, 3, 3]);
  const b = g.param(`${prefix}.conv.bias`, [channels]);
  return g.op1('Conv', [x, w, b], { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1] });
}

/** Nearest-neighbour x2 (torch's floor rounding = ONNX asymmetric + floor), then a 3x3 conv. */
export function upsample(ctx: VaeBlockContext, x: Value, prefix: string, channels: number): Value {
  const up = nearestUpsample(ctx.g, x, 2, ctx.nhwc);
  return sameConv(ctx, up, `${prefix}.conv`, channels, channels, 3);
}

export function nearestUpsample(g: GraphBuilder, x: Value, factor: number, nhwc = false): Value {
  const floats = nhwc ? [1, factor, factor, 1] : [1, 1, factor, factor];
  const scales = g.op1('Constant', [], { value_floats: { floats } });
  return g.op1('Resize', [x, '', scales], {
    mode: 'nearest',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  });
}

/**
 * diffusers' Attention as the VAE mid-block uses it: GroupNorm, one head spanning all channels
 * (attention_head_dim = channels), q/k/v/out linear with bias, residual added, rescale_output_factor 1.
 */
export function selfAttention(ctx: VaeBlockContext, x: Value, prefix: string, channels: number): Value {
  const { g } = ctx;
  const h = norm(ctx, x, `${prefix}.group_norm`, channels, false);
  // [B, C, H, W] -> [B, H*W, C] ([B, H, W, C]: a plain reshape)
  const tokens = ctx.nhwc
    ? g.op1('Reshape', [h, g.constInt64([0, -1, channels])])
    : g.op1('Transpose', [g.op1('Reshape', [h, g.constInt64([0, channels, -1])])], { perm: [0, 2, 1] });
  const q = g.linear(tokens, `${prefix}.to_q`, channels, channels);
  const k = g.linear(tokens, `${prefix}.to_k`, channels, channels);
  const v = g.linear(tokens, `${prefix}.to_v`, channels, channels);
  const attn = g.mha(q, k, v, 1);
  const out = g.linear(attn, `${prefix}.to_out.0`, channels, channels);
  // [B, H*W, C] -> [B, C, H, W] ([B, H, W, C]) in the input's shape
  const back = ctx.nhwc ? out : g.op1('Transpose', [out], { perm: [0, 2, 1] });
  const restored = g.op1('Reshape', [back, g.op1('Shape', [x])]);
  return g.op1('Add', [restored, x]);
}

/** UNetMidBlock2D (one layer): resnet, optional attention, resnet. */
export function midBlock(ctx: VaeBlockContext, x: Value, prefix: string, channels: number, attention: boolean): Value {
  let h = resnetBlock(ctx, x, `${prefix}.resnets.0`, channels, channels);
  if (attention) h = selfAttention(ctx, h, `${prefix}.attentions.0`, channels);
  return resnetBlock(ctx, h, `${prefix}.resnets.1`, channels, channels);
}
