import type { GraphBuilder, Value } from '../graph-builder.ts';
import type { AutoencoderTinyConfig } from './taesd-config.ts';

// AutoencoderTinyBlock and the activations TAESD configs name. `layers.N` indices follow diffusers'
// nn.Sequential, where activations and upsamplers occupy indices too.

export function activation(g: GraphBuilder, x: Value, act: AutoencoderTinyConfig['act_fn']): Value {
  return act === 'relu' ? g.op1('Relu', [x]) : g.silu(x);
}

/** relu(conv(act(conv(act(conv(x))))) + skip(x)); skip is a bias-free 1x1 conv when channels change. */
export function tinyBlock(
  g: GraphBuilder,
  x: Value,
  prefix: string,
  inC: number,
  outC: number,
  act: AutoencoderTinyConfig['act_fn'],
): Value {
  let h = activation(g, g.conv2d(x, `${prefix}.conv.0`, inC, outC, 3, 1, 1), act);
  h = activation(g, g.conv2d(h, `${prefix}.conv.2`, outC, outC, 3, 1, 1), act);
  h = g.conv2d(h, `${prefix}.conv.4`, outC, outC, 3, 1, 1);
  const skip = inC !== outC ? g.conv2d(x, `${prefix}.skip`, inC, outC, 1, 1, 0, false) : x;
  return g.op1('Relu', [g.op1('Add', [h, skip])]);
}

/** nn.Upsample(scale_factor, mode): nearest (floor) or bilinear with align_corners=False. */
export function tinyUpsample(
  g: GraphBuilder,
  x: Value,
  factor: number,
  mode: AutoencoderTinyConfig['upsample_fn'],
): Value {
  const scales = g.op1('Constant', [], { value_floats: { floats: [1, 1, factor, factor] } });
  if (mode === 'nearest') {
    return g.op1('Resize', [x, '', scales], {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
  }
  return g.op1('Resize', [x, '', scales], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' });
}
