import type { WeightSource } from '../../models/weight-source.ts';
import type { BuiltModel } from '../built-model.ts';
import { GraphBuilder, type Precision, type Target } from '../graph-builder.ts';
import { cudaDecoderLayout, type DecoderLayout } from './decoder-layout.ts';
import { activation, type TinyContext, tinyBlock, tinyUpsample } from './taesd-blocks.ts';
import { parseTaesdConfig } from './taesd-config.ts';
import { sameConv } from './unet-cuda-ops.ts';

// AutoencoderTiny decode (= vae_tiny.decode(x).sample): tanh(x / 3) * 3, DecoderTiny's layers, then * 2 - 1.
// Graph: input `latent_sample` [batch, latent_channels, height, width] float32 (UNet-space latents divided by
// scaling_factor, 1.0 for TAESD-XL); output `sample` [batch, out_channels, height*f, width*f] float32, about [-1, 1].

export interface TaesdBuildOptions {
  precision: Precision;
  target?: Target;
  /** decoder, target 'cuda' only (default cudaDecoderLayout()): NHWC with NhwcConv, or NCHW */
  layout?: DecoderLayout;
}

export function taesdScaleFactor(c: {
  num_decoder_blocks: readonly number[];
  upsampling_scaling_factor: number;
}): number {
  return c.upsampling_scaling_factor ** (c.num_decoder_blocks.length - 1);
}

export function buildTaesdDecoder(config: unknown, weights: WeightSource, opts: TaesdBuildOptions): BuiltModel {
  const c = parseTaesdConfig(config, `${weights.description}/config.json`);
  const g = new GraphBuilder({ name: 'taesd_decoder', precision: opts.precision, weights, target: opts.target });
  const chs = c.decoder_block_out_channels;
  const f = taesdScaleFactor(c);
  // bilinear Resize stays NCHW: ONNX Runtime's CUDA kernel interpolates the last two axes
  const nhwc = opts.target === 'cuda' && (opts.layout ?? cudaDecoderLayout()) === 'nhwc' && c.upsample_fn === 'nearest';
  const ctx: TinyContext = { g, act: c.act_fn, nhwc };

  let x = g.inputFloat('latent_sample', ['batch', c.latent_channels, 'height', 'width']);
  // latent clamp: tanh(x / 3) * 3
  const three = g.constFloat(3);
  x = g.op1('Mul', [g.op1('Tanh', [g.op1('Div', [x, three])]), three]);
  if (nhwc) x = g.op1('Transpose', [x], { perm: [0, 2, 3, 1] });
  x = activation(g, sameConv(ctx, x, 'decoder.layers.0', c.latent_channels, chs[0] as number, 3), c.act_fn);
  let idx = 2;
  c.num_decoder_blocks.forEach((n, i) => {
    // as diffusers: every layer of level i works on chs[i] channels
    const ch = chs[i] as number;
    const last = i === chs.length - 1;
    for (let j = 0; j < n; j++) x = tinyBlock(ctx, x, `decoder.layers.${idx++}`, ch, ch);
    if (!last) {
      x = tinyUpsample(g, x, c.upsampling_scaling_factor, c.upsample_fn, nhwc);
      idx++;
    }
    // the per-level conv has a bias only on the last (output) level
    x = sameConv(ctx, x, `decoder.layers.${idx++}`, ch, last ? c.out_channels : ch, 3, last);
  });
  if (nhwc) x = g.op1('Transpose', [x], { perm: [0, 3, 1, 2] });
  x = g.op1('Sub', [g.op1('Mul', [x, g.constFloat(2)]), g.constFloat(1)]);
  g.outputFloat(x, 'sample', ['batch', c.out_channels, `height*${f}`, `width*${f}`]);
  return g.build();
}
