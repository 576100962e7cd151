import type { Kernel } from '../../define.ts';
import { NodeError } from '../../node-error.ts';
import type { setLatentMaskDef } from './set-latent-mask.node.ts';

// diffusers' mask_processor binarizes the mask (>= 0.5 -> 1), then prepare_mask_latents resizes it to the latent's
// size with torch's nearest interpolation (source pixel floor(i * f)).

export const runSetLatentMask: Kernel<typeof setLatentMaskDef> = async ({ inputs, ctx }) => {
  const { latent, mask } = inputs;
  if (latent.kind !== 'image') {
    throw new NodeError('inpainting needs the latents of an image (VAE Encode), not noise', { port: 'latent' });
  }
  const [b, , h, w] = latent.samples.dims as [number, number, number, number];
  const [mb, mh, mw] = mask.mask.dims as [number, number, number];
  const f = latent.samples.dims.length === 4 ? mh / h : Number.NaN;
  if (mask.mask.dims.length !== 3 || mh % h !== 0 || mw / w !== f || !Number.isInteger(f)) {
    throw new NodeError(
      `mask is ${mw}x${mh}, but the latent is ${w}x${h}: the mask must be the size of the encoded image`,
      { port: 'mask' },
    );
  }
  if (mb !== 1 && mb !== b) {
    throw new NodeError(`mask batch ${mb} does not match the latent's batch ${b}`, { port: 'mask' });
  }
  ctx.signal.throwIfAborted();
  const out = new Float32Array(b * h * w);
  for (let i = 0; i < b; i++) {
    const src = mask.mask.data.subarray((mb === 1 ? 0 : i) * mh * mw);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) out[(i * h + y) * w + x] = (src[y * f * mw + x * f] as number) >= 0.5 ? 1 : 0;
    }
  }
  return { latent: { ...latent, mask: { dims: [b, 1, h, w], data: out } } };
};
