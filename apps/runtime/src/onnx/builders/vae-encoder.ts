import type { WeightSource } from '../../models/weight-source.ts';
import type { BuiltModel } from '../built-model.ts';
import { GraphBuilder } from '../graph-builder.ts';
import { downsample, midBlock, resnetBlock, VAE_EPS, type VaeBlockContext } from './vae-blocks.ts';
import { parseVaeConfig, vaeScaleFactor } from './vae-config.ts';
import { type VaeBuildOptions, vaePrecision } from './vae-decoder.ts';

// AutoencoderKL encode: diffusers' Encoder (double_z), quant_conv (if configured), then latent_dist's
// mean and logvar (logvar clamped to [-30, 20] as DiagonalGaussianDistribution does).
// Graph: input `sample` [batch, in_channels, height, width] float32 in [-1, 1]; outputs `mean` and `logvar`
// [batch, latent_channels, height/f, width/f] float32 (mean is unscaled: multiply by scaling_factor for UNet space).

export function buildVaeEncoder(config: unknown, weights: WeightSource, opts: VaeBuildOptions): BuiltModel {
  const c = parseVaeConfig(config, `${weights.description}/config.json`);
  const g = new GraphBuilder({ name: 'vae_encoder', precision: vaePrecision(c, opts), weights, target: opts.target });
  const ctx: VaeBlockContext = { g, groups: c.norm_num_groups };
  const ch = c.block_out_channels;
  const top = ch[ch.length - 1] as number;
  const f = vaeScaleFactor(c);
  const lc = c.latent_channels;

  let x = g.inputFloat('sample', ['batch', c.in_channels, 'height', 'width']);
  x = g.conv2d(x, 'encoder.conv_in', c.in_channels, ch[0] as number, 3, 1, 1);
  let prev = ch[0] as number;
  ch.forEach((outC, i) => {
    const prefix = `encoder.down_blocks.${i}`;
    for (let j = 0; j < c.layers_per_block; j++) {
      x = resnetBlock(ctx, x, `${prefix}.resnets.${j}`, j === 0 ? prev : outC, outC);
    }
    if (i < ch.length - 1) x = downsample(ctx, x, `${prefix}.downsamplers.0`, outC);
    prev = outC;
  });
  x = midBlock(ctx, x, 'encoder.mid_block', top, c.mid_block_add_attention);
  x = g.silu(g.groupNorm(x, 'encoder.conv_norm_out', c.norm_num_groups, top, VAE_EPS));
  x = g.conv2d(x, 'encoder.conv_out', top, 2 * lc, 3, 1, 1);
  if (c.use_quant_conv) x = g.conv2d(x, 'quant_conv', 2 * lc, 2 * lc, 1, 1, 0);

  const [mean, rawLogvar] = g.op('Split', [x, g.constInt64([lc, lc])], { axis: 1 }, { outputs: 2 }) as [
    typeof x,
    typeof x,
  ];
  const logvar = g.op1('Clip', [rawLogvar, g.constFloat(-30), g.constFloat(20)]);
  const dims = ['batch', lc, `height/${f}`, `width/${f}`];
  g.outputFloat(mean, 'mean', dims);
  g.outputFloat(logvar, 'logvar', dims);
  return g.build();
}
