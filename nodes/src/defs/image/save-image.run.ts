import type { Kernel } from '../../define.ts';
import type { saveImageDef } from './save-image.node.ts';

export const runSaveImage: Kernel<typeof saveImageDef> = async ({ params, inputs, ctx }) => {
  const count = inputs.image.images.dims[0] ?? 0;
  const files: string[] = [];
  ctx.progress(0, count);
  for (let i = 0; i < count; i++) {
    ctx.signal.throwIfAborted();
    files.push(await ctx.backend.saveImage(inputs.image, i, params.filenamePrefix, ctx.workflowJson));
    ctx.progress(i + 1, count);
  }
  ctx.emitFiles(files);
  return {};
};
