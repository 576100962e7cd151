import type { TransformerArch, UnetArch } from '../onnx/builders/unet-config.ts';

// FLOPs of one UNet forward (2 x multiply-adds of convolutions, linear layers and attention products; norms,
// activations and elementwise ops left out, as PyTorch's FlopCounterMode counts), for the achieved-rate figure.

export interface UnetShape {
  /** UNet batch (images x 2 with classifier-free guidance). */
  batch: number;
  /** Latent height and width. */
  height: number;
  width: number;
  /** Text tokens in encoder_hidden_states (77). */
  contextTokens: number;
}

const conv = (inC: number, outC: number, k: number, pixels: number) => inC * outC * k * k * pixels;

function transformerMacs(t: TransformerArch, tokens: number, ctx: number): number {
  const c = t.channels;
  let macs = 2 * tokens * c * c; // proj_in + proj_out (linear projection)
  for (let i = 0; i < t.depth; i++) {
    macs += tokens * 4 * c * c + 2 * tokens * tokens * c; // self-attention: q, k, v, out; QK^T and PV
    macs += tokens * 2 * c * c + 2 * ctx * t.crossDim * c + 2 * tokens * ctx * c; // cross-attention
    macs += tokens * 12 * c * c; // GEGLU feed-forward: c -> 2 x 4c, 4c -> c
  }
  return macs;
}

export function unetFlops(a: UnetArch, s: UnetShape): number {
  const levels = a.down.length;
  const first = a.down[0]?.layers[0]?.resnet.inC ?? 0;
  let macs = conv(a.inChannels, first, a.convInKernel, s.height * s.width);
  const px = (level: number) => (s.height >> level) * (s.width >> level);
  const resnet = (r: { inC: number; outC: number }, level: number) =>
    conv(r.inC, r.outC, 3, px(level)) +
    conv(r.outC, r.outC, 3, px(level)) +
    (r.inC !== r.outC ? conv(r.inC, r.outC, 1, px(level)) : 0);
  a.down.forEach((block, i) => {
    for (const l of block.layers) {
      macs += resnet(l.resnet, i);
      if (l.attn) macs += transformerMacs(l.attn, px(i), s.contextTokens);
    }
    if (block.downsample) macs += conv(block.downsample.channels, block.downsample.channels, 3, px(i + 1));
  });
  for (const r of a.mid.resnets) macs += resnet(r, levels - 1);
  for (const t of a.mid.attns) macs += transformerMacs(t, px(levels - 1), s.contextTokens);
  a.up.forEach((block, j) => {
    const level = levels - 1 - j;
    for (const l of block.layers) {
      macs += resnet(l.resnet, level);
      if (l.attn) macs += transformerMacs(l.attn, px(level), s.contextTokens);
    }
    if (block.upsample) macs += conv(block.upsample.channels, block.upsample.channels, 3, px(level - 1));
  });
  const last = a.up[a.up.length - 1]?.layers.at(-1)?.resnet.outC ?? 0;
  macs += conv(last, a.outChannels, a.convOutKernel, s.height * s.width);
  return 2 * macs * s.batch;
}
