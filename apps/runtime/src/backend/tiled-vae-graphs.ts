import type { WeightSource } from '../models/weight-source.ts';
import { midBlock, upsample, VAE_EPS } from '../onnx/builders/vae-blocks.ts';
import { type AutoencoderKLConfig, parseVaeConfig } from '../onnx/builders/vae-config.ts';
import type { BuiltModel } from '../onnx/built-model.ts';
import { GraphBuilder, type Target, type Value } from '../onnx/graph-builder.ts';

// The AutoencoderKL decoder cut into pieces for exact tiled decoding: a head at latent resolution (post_quant_conv,
// conv_in, mid block with its global attention) run whole, then segments that each hold one GroupNorm, fed the
// norm's statistics over the whole image, so tiles (with a halo for their 3x3 convs) give the plain decode's result.

export type SegmentKind = 'norm_conv' | 'norm_conv_residual' | 'upsample' | 'final';

export interface DecoderSegment {
  readonly name: string;
  readonly kind: SegmentKind;
  readonly inC: number;
  readonly outC: number;
  /** channels of the residual input (norm_conv_residual) */
  readonly resC?: number;
  build(): BuiltModel;
}

export interface TiledDecoderPlan {
  readonly config: AutoencoderKLConfig;
  readonly groups: number;
  readonly eps: number;
  readonly head: { readonly outC: number; build(): BuiltModel };
  readonly segments: readonly DecoderSegment[];
}

/** GroupNorm with mean/rstd [B, G] given as inputs, then the norm's affine weights. */
function externalGroupNorm(g: GraphBuilder, x: Value, prefix: string, groups: number, channels: number): Value {
  const mean = g.inputFloat('mean', ['batch', groups]);
  const rstd = g.inputFloat('rstd', ['batch', groups]);
  const grouped = g.op1('Reshape', [x, g.constInt64([0, groups, -1])]);
  const axes = g.constInt64([2]);
  const centered = g.op1('Sub', [grouped, g.op1('Unsqueeze', [mean, axes])]);
  const normed = g.op1('Mul', [centered, g.op1('Unsqueeze', [rstd, axes])]);
  const back = g.op1('Reshape', [normed, g.op1('Shape', [x])]);
  const shape = g.constInt64([channels, 1, 1]);
  const gamma = g.op1('Reshape', [g.param(`${prefix}.weight`, [channels]), shape]);
  const beta = g.op1('Reshape', [g.param(`${prefix}.bias`, [channels]), shape]);
  return g.op1('Add', [g.op1('Mul', [back, gamma]), beta]);
}

export function planTiledDecoder(
  rawConfig: unknown,
  weights: WeightSource,
  target: Target,
  file: string,
): TiledDecoderPlan {
  const c = parseVaeConfig(rawConfig, file);
  const groups = c.norm_num_groups;
  const ch = c.block_out_channels;
  const top = ch[ch.length - 1]!;
  const builder = (name: string) => new GraphBuilder({ name, precision: 'fp32', weights, target });

  const head = {
    outC: top,
    build: () => {
      const g = builder('vae_decoder.head');
      let x = g.inputFloat('latent_sample', ['batch', c.latent_channels, 'height', 'width']);
      if (c.use_post_quant_conv) x = g.conv2d(x, 'post_quant_conv', c.latent_channels, c.latent_channels, 1, 1, 0);
      x = g.conv2d(x, 'decoder.conv_in', c.latent_channels, top, 3, 1, 1);
      x = midBlock({ g, groups }, x, 'decoder.mid_block', top, c.mid_block_add_attention);
      g.outputFloat(x, 'y', ['batch', top, 'height', 'width']);
      return g.build();
    },
  };

  const segments: DecoderSegment[] = [];
  const normConv = (
    name: string,
    norm: string,
    conv: string,
    inC: number,
    outC: number,
    residual?: { prefix: string; resC: number },
  ) =>
    segments.push({
      name,
      kind: residual ? 'norm_conv_residual' : 'norm_conv',
      inC,
      outC,
      resC: residual?.resC,
      build: () => {
        const g = builder(`vae_decoder.${name}`);
        const x = g.inputFloat('x', ['batch', inC, 'height', 'width']);
        let y = g.conv2d(g.silu(externalGroupNorm(g, x, norm, groups, inC)), conv, inC, outC, 3, 1, 1);
        if (residual) {
          const res = g.inputFloat('res', ['batch', residual.resC, 'height', 'width']);
          const shortcut =
            residual.resC !== outC
              ? g.conv2d(res, `${residual.prefix}.conv_shortcut`, residual.resC, outC, 1, 1, 0)
              : res;
          y = g.op1('Add', [shortcut, y]);
        }
        g.outputFloat(y, 'y', ['batch', outC, 'height', 'width']);
        return g.build();
      },
    });

  let prev = top;
  [...ch].reverse().forEach((outC, i) => {
    for (let j = 0; j <= c.layers_per_block; j++) {
      const p = `decoder.up_blocks.${i}.resnets.${j}`;
      const inC = j === 0 ? prev : outC;
      normConv(`${p}.a`, `${p}.norm1`, `${p}.conv1`, inC, outC);
      normConv(`${p}.b`, `${p}.norm2`, `${p}.conv2`, outC, outC, { prefix: p, resC: inC });
    }
    if (i < ch.length - 1) {
      const p = `decoder.up_blocks.${i}.upsamplers.0`;
      segments.push({
        name: p,
        kind: 'upsample',
        inC: outC,
        outC,
        build: () => {
          const g = builder(`vae_decoder.${p}`);
          const x = g.inputFloat('x', ['batch', outC, 'height', 'width']);
          g.outputFloat(upsample({ g, groups }, x, p, outC), 'y', ['batch', outC, 'height2', 'width2']);
          return g.build();
        },
      });
    }
    prev = outC;
  });
  segments.push({
    name: 'decoder.conv_out',
    kind: 'final',
    inC: ch[0]!,
    outC: c.out_channels,
    build: () => {
      const g = builder('vae_decoder.conv_out');
      const x = g.inputFloat('x', ['batch', ch[0]!, 'height', 'width']);
      const y = g.conv2d(
        g.silu(externalGroupNorm(g, x, 'decoder.conv_norm_out', groups, ch[0]!)),
        'decoder.conv_out',
        ch[0]!,
        c.out_channels,
        3,
        1,
        1,
      );
      g.outputFloat(y, 'y', ['batch', c.out_channels, 'height', 'width']);
      return g.build();
    },
  });
  return { config: c, groups, eps: VAE_EPS, head, segments };
}
