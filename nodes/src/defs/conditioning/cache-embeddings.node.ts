import { defineNode } from '../../define.ts';
import { promptParams } from './prompt-params.ts';

export const cacheEmbeddingsDef = defineNode({
  type: 'cacheEmbeddings',
  version: 1,
  title: 'Cache Embeddings',
  category: 'conditioning',
  description:
    'Encode Prompt with a disk cache keyed by the prompts and the text-encoder weights: a hit, across runs and restarts, never loads the text encoders.',
  params: promptParams,
  inputs: { clip: { type: 'CLIP' } },
  outputs: { conditioning: { type: 'CONDITIONING' } },
});
