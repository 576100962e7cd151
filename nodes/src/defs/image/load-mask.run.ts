import type { Kernel } from '../../define.ts';
import { NodeError } from '../../node-error.ts';
import type { loadMaskDef } from './load-mask.node.ts';

export const runLoadMask: Kernel<typeof loadMaskDef> = async ({ params, ctx }) => {
  ctx.signal.throwIfAborted();
  try {
    const mask = await ctx.backend.loadMask({
      file: params.file,
      channel: params.channel,
      fit: params.fit,
      width: params.width,
      height: params.height,
      signal: ctx.signal,
    });
    return { mask };
  } catch (e) {
    if (ctx.signal.aborted || !(e instanceof Error)) throw e;
    throw new NodeError(e.message, { param: /alpha channel/.test(e.message) ? 'channel' : 'file' });
  }
};
