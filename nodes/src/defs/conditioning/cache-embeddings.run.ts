import type { Kernel } from '../../define.ts';
import type { cacheEmbeddingsDef } from './cache-embeddings.node.ts';
import { encodeOptionsOf, negativeOf } from './prompt-params.ts';

export const runCacheEmbeddings: Kernel<typeof cacheEmbeddingsDef> = async ({ params, inputs, ctx }) => {
  ctx.progress(0, 1);
  const { conditioning } = await ctx.backend.cachedEncodePrompt(
    inputs.clip,
    params.prompt,
    negativeOf(params),
    ctx.signal,
    encodeOptionsOf(params),
  );
  ctx.progress(1, 1);
  return { conditioning };
};
