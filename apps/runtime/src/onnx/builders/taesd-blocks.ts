import type { GraphBuilder, Value } from '../graph-builder.ts';
import type { AutoencoderTinyConfig } from './taesd-config.ts';
import { sameConv } from './unet-cuda-ops.ts';
import { nearestUpsample } from './vae-blocks.ts';

// AutoencoderTinyBlock and the activations TAESD configs name. `layers.N` indices follow diffusers'
// nn.Sequential, where activations and upsamplers occupy indices too. NCHW, or NHWC with NhwcConv (CUDA only).

export interface TinyContext {
  readonly g: GraphBuilder;
  readonly act: AutoencoderTinyConfig['act_fn'];
  readonly nhwc: boolean;
}

export function activation(g: GraphBuilder, x: Value, act: AutoencoderTinyConfig['act_fn']): Value {
  return act === 'relu' ? g.op1('Relu', [x]) : g.silu(x);
}

/** relu(conv(act(conv(act(conv(x))))) + skip(x)); skip is a bias-free 1x1 conv when channels change. */
export function tinyBlock(ctx: TinyContext, x: Value, prefix: string, inC: number, outC: number): Value {
  const { g, act } = ctx;
  let h = activation(g, sameConv(ctx, x, `${prefix}.conv.0`, inC, outC, 3), act);
  h = activation(g, sameConv(ctx, h, `${prefix}.conv.2`, outC, outC, 3), act);
  h = sameConv(ctx, h, `${prefix}.conv.4`, outC, outC, 3);
  const skip = inC !== outC ? sameConv(ctx, x, `${prefix}.skip`, inC, outC, 1, false) : x;
  return g.op1('Relu', [g.op1('Add', [h, skip])]);
}

/** nn.Upsample(scale_factor, mode): nearest (floor) or bilinear with align_corners=False. */
export function tinyUpsample(
  g: GraphBuilder,
  x: Value,
  factor: number,
  mode: AutoencoderTinyConfig['upsample_fn'],
  nhwc = false,
): Value {
  if (mode === 'nearest') return nearestUpsample(g, x, factor, nhwc);
  const floats = nhwc ? [1, factor, factor, 1] : [1, 1, factor, factor];
  const scales = g.op1('Constant', [], { value_floats: { floats } });
  return g.op1('Resize', [x, '', scales], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' });
}
