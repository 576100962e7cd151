import type { WeightSource } from '../../models/weight-source.ts';
import type { BuiltModel } from '../built-model.ts';
import { GraphBuilder } from '../graph-builder.ts';
import { tinyBlock } from './taesd-blocks.ts';
import { parseTaesdConfig } from './taesd-config.ts';
import type { TaesdBuildOptions } from './taesd-decoder.ts';

// AutoencoderTiny encode (= vae_tiny.encode(x).latents): EncoderTiny's layers on (x + 1) / 2.
// Graph: input `sample` [batch, in_channels, height, width] float32 in [-1, 1]; output `latent_sample`
// [batch, latent_channels, height/f, width/f] float32 (raw latents, not scale_latents'd).

export function buildTaesdEncoder(config: unknown, weights: WeightSource, opts: TaesdBuildOptions): BuiltModel {
  const c = parseTaesdConfig(config, `${weights.description}/config.json`);
  const g = new GraphBuilder({ name: 'taesd_encoder', precision: opts.precision, weights, target: opts.target });
  const chs = c.encoder_block_out_channels;
  const ctx = { g, act: c.act_fn, nhwc: false };
  const f = c.upsampling_scaling_factor ** (chs.length - 1);

  let x = g.inputFloat('sample', ['batch', c.in_channels, 'height', 'width']);
  x = g.op1('Div', [g.op1('Add', [x, g.constFloat(1)]), g.constFloat(2)]);
  let idx = 0;
  c.num_encoder_blocks.forEach((n, i) => {
    // as diffusers: every layer of level i works on chs[i] channels; level 0 opens with a biased 3x3 conv,
    // later levels with a bias-free stride-2 conv
    const ch = chs[i] as number;
    const name = `encoder.layers.${idx++}`;
    x = i === 0 ? g.conv2d(x, name, c.in_channels, ch, 3, 1, 1) : g.conv2d(x, name, ch, ch, 3, 2, 1, false);
    for (let j = 0; j < n; j++) x = tinyBlock(ctx, x, `encoder.layers.${idx++}`, ch, ch);
  });
  x = g.conv2d(x, `encoder.layers.${idx}`, chs[chs.length - 1] as number, c.latent_channels, 3, 1, 1);
  g.outputFloat(x, 'latent_sample', ['batch', c.latent_channels, `height/${f}`, `width/${f}`]);
  return g.build();
}
