import type { Kernel } from '../../define.ts';
import type { vaeDecodeDef } from './vae-decode.node.ts';

export const runVaeDecode: Kernel<typeof vaeDecodeDef> = async ({ params, inputs, ctx }) => {
  ctx.signal.throwIfAborted();
  const image = await ctx.backend.vaeDecode({
    vae: inputs.vae,
    latent: inputs.latent,
    slicing: params.slicing,
    tiling: params.tiling,
    tileSize: params.tileSize,
    tileOverlap: params.tileOverlap,
    autoTiling: params.autoTiling,
    onProgress: (done, total) => ctx.progress(done, total),
    signal: ctx.signal,
  });
  return { image };
};
