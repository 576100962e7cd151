import type { Kernel } from '../../define.ts';
import { NodeError } from '../../node-error.ts';
import type { unetDenoiseDef } from './unet-denoise.node.ts';

export const runUnetDenoise: Kernel<typeof unetDenoiseDef> = async ({ params, inputs, ctx }) => {
  if (params.previewMethod === 'taesd' && !inputs.previewDecoder) {
    throw new NodeError('previewMethod "taesd" needs a tiny VAE connected to previewDecoder', {
      port: 'previewDecoder',
    });
  }
  ctx.signal.throwIfAborted();
  ctx.progress(0, params.steps);
  const latent = await ctx.backend.denoise({
    unet: inputs.unet,
    conditioning: inputs.conditioning,
    latent: inputs.latent,
    steps: params.steps,
    cfg: params.cfg,
    scheduler: params.scheduler,
    seed: params.seed,
    denoise: params.denoise,
    preview: {
      method: params.previewMethod,
      every: params.previewEvery,
      ...(inputs.previewDecoder ? { taesd: inputs.previewDecoder } : {}),
    },
    onStep: ({ step, total }) => ctx.progress(step, total),
    onPreview: (image) => ctx.preview(image),
    signal: ctx.signal,
  });
  return { latent };
};
