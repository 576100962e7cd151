import type { Kernel } from '../../define.ts';
import { NodeError } from '../../node-error.ts';
import type { vaeEncodeDef } from './vae-encode.node.ts';

export const runVaeEncode: Kernel<typeof vaeEncodeDef> = async ({ params, inputs, ctx }) => {
  const dims = inputs.image.images.dims;
  if (dims.length !== 4 || dims[3] !== 3) {
    throw new NodeError(`image must be RGB [B, H, W, 3], got [${dims.join(', ')}]`, { port: 'image' });
  }
  const [, h, w] = dims as [number, number, number, number];
  const f = inputs.vae.model.vaeScaleFactor;
  if (h % f !== 0 || w % f !== 0) {
    throw new NodeError(
      `image is ${w}x${h}, not a multiple of the VAE scale factor ${f}: fit it on Load Image (width, height)`,
      { port: 'image' },
    );
  }
  ctx.signal.throwIfAborted();
  const latent = await ctx.backend.vaeEncode({
    vae: inputs.vae,
    image: inputs.image,
    sampling: params.sampling,
    seed: params.seed,
    slicing: params.slicing,
    onProgress: (done, total) => ctx.progress(done, total),
    signal: ctx.signal,
  });
  return { latent };
};
