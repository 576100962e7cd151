import { z } from 'zod';
import { defineNode } from '../../define.ts';
import { seedParam } from '../../param-meta.ts';

const side = (description: string) =>
  z.number().int().min(8).max(8192).default(1024).meta({ widget: 'number', step: 8, description });

export const emptyLatentDef = defineNode({
  type: 'emptyLatent',
  version: 1,
  title: 'Empty Latent',
  category: 'latent',
  description:
    'Initial noise for text-to-image: torch-compatible randn([batch, channels, height/f, width/f], seed), f = the VAE scale factor.',
  params: z.object({
    width: side('Image width in pixels; a multiple of the VAE scale factor (8 for SDXL).'),
    height: side('Image height in pixels; a multiple of the VAE scale factor (8 for SDXL).'),
    batchSize: z.number().int().min(1).max(64).default(1).meta({ widget: 'number', description: 'Images per run.' }),
    seed: seedParam(),
  }),
  inputs: { vae: { type: 'VAE', description: 'Gives the latent channels and scale factor.' } },
  outputs: { latent: { type: 'LATENT' } },
  cost: (p) => ({ latent: { width: p.width, height: p.height, batch: p.batchSize } }),
});
