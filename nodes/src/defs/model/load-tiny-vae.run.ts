import type { Kernel } from '../../define.ts';
import type { loadTinyVaeDef } from './load-tiny-vae.node.ts';

export const runLoadTinyVae: Kernel<typeof loadTinyVaeDef> = async ({ params, ctx }) => {
  ctx.signal.throwIfAborted();
  const taesd = await ctx.backend.loadTinyVae({
    model: params.model,
    precision: params.precision,
    device: params.device,
  });
  return { taesd };
};
