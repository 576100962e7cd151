import { z } from 'zod';
import { defineNode } from '../../define.ts';
import { filenamePrefixParam } from '../../param-meta.ts';

export const saveLatentDef = defineNode({
  type: 'saveLatent',
  version: 1,
  title: 'Save Latent',
  category: 'latent',
  description: 'Writes the latent to the output folder as safetensors, for Load Latent in a later run.',
  params: z.object({ filenamePrefix: filenamePrefixParam('sdflow_latent') }),
  inputs: { latent: { type: 'LATENT' } },
  outputs: {},
  isOutput: true,
});
