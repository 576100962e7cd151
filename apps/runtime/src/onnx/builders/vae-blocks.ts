import type { GraphBuilder, Value } from '../graph-builder.ts';

// The AutoencoderKL building blocks (diffusers' ResnetBlock2D without time embedding, Downsample2D with
// padding 0, Upsample2D, UNetMidBlock2D and its single-head self-attention). All take NCHW in floatType.

/** Every norm in AutoencoderKL's encoder and decoder uses this epsilon. */
export const VAE_EPS = 1e-6;

export interface VaeBlockContext {
  readonly g: GraphBuilder;
  readonly groups: number;
}

/** GroupNorm -> SiLU -> Conv3x3 twice, plus the input (through a 1x1 conv when channels change). */
export function resnetBlock(ctx: VaeBlockContext, x: Value, prefix: string, inC: number, outC: number): Value {
  const { g, groups } = ctx;
  let h = g.silu(g.groupNorm(x, `${prefix}.norm1`, groups, inC, VAE_EPS));
  h = g.conv2d(h, `${prefix}.conv1`, inC, outC, 3, 1, 1);
  h = g.silu(g.groupNorm(h, `${prefix}.norm2`, groups, outC, VAE_EPS));
  h = g.conv2d(h, `${prefix}.conv2`, outC, outC, 3, 1, 1);
  const shortcut = inC !== outC ? g.conv2d(x, `${prefix}.conv_shortcut`, inC, outC, 1, 1, 0) : x;
  return g.op1('Add', [shortcut, h]);
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
  const { g } = ctx;
  const up = nearestUpsample(g, x, 2);
  return g.conv2d(up, `${prefix}.conv`, channels, channels, 3, 1, 1);
}

export function nearestUpsample(g: GraphBuilder, x: Value, factor: number): Value {
  const scales = g.op1('Constant', [], { value_floats: { floats: [1, 1, factor, factor] } });
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
  const { g, groups } = ctx;
  const h = g.groupNorm(x, `${prefix}.group_norm`, groups, channels, VAE_EPS);
  // [B, C, H, W] -> [B, H*W, C]
  const flat = g.op1('Reshape', [h, g.constInt64([0, channels, -1])]);
  const tokens = g.op1('Transpose', [flat], { perm: [0, 2, 1] });
  const q = g.linear(tokens, `${prefix}.to_q`, channels, channels);
  const k = g.linear(tokens, `${prefix}.to_k`, channels, channels);
  const v = g.linear(tokens, `${prefix}.to_v`, channels, channels);
  const attn = g.mha(q, k, v, 1);
  const out = g.linear(attn, `${prefix}.to_out.0`, channels, channels);
  // [B, H*W, C] -> [B, C, H, W] in the input's shape
  const back = g.op1('Transpose', [out], { perm: [0, 2, 1] });
  const restored = g.op1('Reshape', [back, g.op1('Shape', [x])]);
  return g.op1('Add', [restored, x]);
}

/** UNetMidBlock2D (one layer): resnet, optional attention, resnet. */
export function midBlock(ctx: VaeBlockContext, x: Value, prefix: string, channels: number, attention: boolean): Value {
  let h = resnetBlock(ctx, x, `${prefix}.resnets.0`, channels, channels);
  if (attention) h = selfAttention(ctx, h, `${prefix}.attentions.0`, channels);
  return resnetBlock(ctx, h, `${prefix}.resnets.1`, channels, channels);
}
