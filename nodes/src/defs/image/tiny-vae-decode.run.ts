import type { Kernel } from '../../define.ts';
import type { tinyVaeDecodeDef } from './tiny-vae-decode.node.ts';

export const runTinyVaeDecode: Kernel<typeof tinyVaeDecodeDef> = async ({ inputs, ctx }) => {
  ctx.signal.throwIfAborted();
  ctx.progress(0, 1);
  const image = await ctx.backend.tinyVaeDecode(inputs.taesd, inputs.latent, ctx.signal);
  ctx.progress(1, 1);
  return { image };
};
