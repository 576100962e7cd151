import type { Kernel } from '../../define.ts';
import type { loadLatentDef } from './load-latent.node.ts';

export const runLoadLatent: Kernel<typeof loadLatentDef> = async ({ params, ctx }) => {
  ctx.signal.throwIfAborted();
  return { latent: await ctx.backend.loadLatent(params.file) };
};
