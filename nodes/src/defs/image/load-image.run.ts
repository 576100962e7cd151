import type { Kernel } from '../../define.ts';
import { NodeError } from '../../node-error.ts';
import type { loadImageDef } from './load-image.node.ts';

export const runLoadImage: Kernel<typeof loadImageDef> = async ({ params, ctx }) => {
  ctx.signal.throwIfAborted();
  try {
    const image = await ctx.backend.loadImage({
      file: params.file,
      fit: params.fit,
      width: params.width,
      height: params.height,
      allowAlpha: params.alpha === 'ignore',
      signal: ctx.signal,
    });
    return { image };
  } catch (e) {
    if (ctx.signal.aborted || !(e instanceof Error)) throw e;
    // every failure here is about the file: missing, unreadable, not an image, or with an alpha channel
    throw new NodeError(e.message, { param: /alpha channel/.test(e.message) ? 'alpha' : 'file' });
  }
};
