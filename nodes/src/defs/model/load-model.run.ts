import type { Kernel } from '../../define.ts';
import type { loadModelDef } from './load-model.node.ts';

export const runLoadModel: Kernel<typeof loadModelDef> = async ({ params, inputs, ctx }) => {
  ctx.signal.throwIfAborted();
  const { unet, clip, vae } = await ctx.backend.loadModel({
    model: params.model,
    precision: params.precision,
    device: params.device,
    attention: params.attention,
    offload: inputs.offload ?? { mode: 'none', budgetMiB: 0 },
  });
  return { unet, clip, vae };
};
