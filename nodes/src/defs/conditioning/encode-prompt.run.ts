import type { Kernel } from '../../define.ts';
import type { encodePromptDef } from './encode-prompt.node.ts';
import { encodeOptionsOf, negativeOf } from './prompt-params.ts';

export const runEncodePrompt: Kernel<typeof encodePromptDef> = async ({ params, inputs, ctx }) => {
  ctx.progress(0, 1);
  const conditioning = await ctx.backend.encodePrompt(
    inputs.clip,
    params.prompt,
    negativeOf(params),
    ctx.signal,
    encodeOptionsOf(params),
  );
  ctx.progress(1, 1);
  return { conditioning };
};
