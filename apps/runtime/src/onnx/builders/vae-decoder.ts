import type { WeightSource } from '../../models/weight-source.ts';
import type { BuiltModel } from '../built-model.ts';
import { GraphBuilder, type Precision, type Target } from '../graph-builder.ts';
import { cudaDecoderLayout, type DecoderLayout } from './decoder-layout.ts';
import { fusedGroupNormFits, sameConv } from './unet-cuda-ops.ts';
import { midBlock, norm, resnetBlock, upsample, type VaeBlockContext } from './vae-blocks.ts';
import { parseVaeConfig, vaeScaleFactor } from './vae-config.ts';

// AutoencoderKL decode: post_quant_conv (if configured) then diffusers' Decoder.
// Graph: input `latent_sample` [batch, latent_channels, height, width] float32, already divided by
// scaling_factor (what diffusers' vae.decode takes); output `sample` [batch, out_channels, height*f, width*f]
// float32 in about [-1, 1].

export interface VaeBuildOptions {
  /** The model's precision. */
  precision: Precision;
  target?: Target;
  /**
   * fp32 decoder under an fp16 model (diffusers' force_upcast: the SDXL VAE overflows in fp16).
   * 'auto' (default) follows config.force_upcast; only consulted when precision is fp16.
   */
  upcast?: boolean | 'auto';
  /** target 'cuda' only (default cudaDecoderLayout()): NHWC with NhwcConv and fused GroupNorm + SiLU, or NCHW */
  layout?: DecoderLayout;
}

/** The precision the VAE graph is actually built in. */
export function vaePrecision(config: { force_upcast: boolean }, opts: VaeBuildOptions): Precision {
  if (opts.precision === 'fp32') return 'fp32';
  const upcast = opts.upcast ?? 'auto';
  return (upcast === 'auto' ? config.force_upcast : upcast) ? 'fp32' : 'fp16';
}

export function buildVaeDecoder(config: unknown, weights: WeightSource, opts: VaeBuildOptions): BuiltModel {
  const c = parseVaeConfig(config, `${weights.description}/config.json`);
  const g = new GraphBuilder({ name: 'vae_decoder', precision: vaePrecision(c, opts), weights, target: opts.target });
  const ch = c.block_out_channels;
  // the CUDA GroupNorm kernel takes an even number of channels per group
  const nhwc =
    opts.target === 'cuda' &&
    (opts.layout ?? cudaDecoderLayout()) === 'nhwc' &&
    ch.every((n) => fusedGroupNormFits(n, c.norm_num_groups));
  const ctx: VaeBlockContext = { g, groups: c.norm_num_groups, nhwc };
  const top = ch[ch.length - 1] as number;
  const f = vaeScaleFactor(c);

  let x = g.inputFloat('latent_sample', ['batch', c.latent_channels, 'height', 'width']);
  if (nhwc) x = g.op1('Transpose', [x], { perm: [0, 2, 3, 1] });
  if (c.use_post_quant_conv) x = sameConv(ctx, x, 'post_quant_conv', c.latent_channels, c.latent_channels, 1);
  x = sameConv(ctx, x, 'decoder.conv_in', c.latent_channels, top, 3);
  x = midBlock(ctx, x, 'decoder.mid_block', top, c.mid_block_add_attention);

  const reversed = [...ch].reverse();
  let prev = top;
  reversed.forEach((outC, i) => {
    const prefix = `decoder.up_blocks.${i}`;
    // UpDecoderBlock2D has layers_per_block + 1 resnets
    for (let j = 0; j <= c.layers_per_block; j++) {
      x = resnetBlock(ctx, x, `${prefix}.resnets.${j}`, j === 0 ? prev : outC, outC);
    }
    if (i < reversed.length - 1) x = upsample(ctx, x, `${prefix}.upsamplers.0`, outC);
    prev = outC;
  });

  const bottom = ch[0] as number;
  x = sameConv(ctx, norm(ctx, x, 'decoder.conv_norm_out', bottom, true), 'decoder.conv_out', bottom, c.out_channels, 3);
  if (nhwc) x = g.op1('Transpose', [x], { perm: [0, 3, 1, 2] });
  g.outputFloat(x, 'sample', ['batch', c.out_channels, `height*${f}`, `width*${f}`]);
  return g.build();
}
