import type { Kernel } from '../../define.ts';
import { NodeError } from '../../node-error.ts';
import type { emptyLatentDef } from './empty-latent.node.ts';

export const runEmptyLatent: Kernel<typeof emptyLatentDef> = async ({ params, inputs, ctx }) => {
  const { vaeScaleFactor: f, latentChannels } = inputs.vae.model;
  for (const key of ['width', 'height'] as const) {
    if (params[key] % f !== 0) {
      throw new NodeError(`${key} ${params[key]} is not a multiple of the VAE scale factor ${f}`, { param: key });
    }
  }
  ctx.signal.throwIfAborted();
  const samples = ctx.backend.randn(
    [params.batchSize, latentChannels, params.height / f, params.width / f],
    params.seed,
  );
  return { latent: { samples, kind: 'noise' } };
};
