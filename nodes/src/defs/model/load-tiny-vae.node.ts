import { z } from 'zod';
import { defineNode } from '../../define.ts';
import { deviceParam, modelName, precisionParam } from '../../param-meta.ts';

export const loadTinyVaeDef = defineNode({
  type: 'loadTinyVae',
  version: 1,
  title: 'Load Tiny VAE',
  category: 'model',
  description:
    'TAESD-XL, a tiny autoencoder: a fast decoder for previews or final images. Loads lazily, when first used.',
  params: z.object({
    model: modelName(
      'tinyVaes',
      'A pipeline folder with vae_tiny/, or a TAESD folder; "default" = the tiny VAE of the built-in test model.',
    ),
    precision: precisionParam(),
    device: deviceParam(),
  }),
  inputs: {},
  outputs: { taesd: { type: 'TAESD' } },
});
