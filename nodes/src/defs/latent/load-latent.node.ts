import { z } from 'zod';
import { defineNode } from '../../define.ts';
import { FILE_NAME } from '../../param-meta.ts';

export const loadLatentDef = defineNode({
  type: 'loadLatent',
  version: 1,
  title: 'Load Latent',
  category: 'latent',
  description: 'Reads a latent written by Save Latent (safetensors in the output folder).',
  params: z.object({
    file: z
      .string()
      .min(1)
      .max(200)
      .regex(FILE_NAME, 'a file name in the output folder (no folders)')
      .meta({ widget: 'file', source: 'latents', description: 'File name in the output folder.' }),
  }),
  inputs: {},
  outputs: { latent: { type: 'LATENT' } },
});
