import type { Kernel } from '../../define.ts';
import type { saveLatentDef } from './save-latent.node.ts';

export const runSaveLatent: Kernel<typeof saveLatentDef> = async ({ params, inputs, ctx }) => {
  ctx.signal.throwIfAborted();
  const file = await ctx.backend.saveLatent(inputs.latent, params.filenamePrefix);
  ctx.emitFiles([file]);
  return {};
};
