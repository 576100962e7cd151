import { z } from 'zod';
import { defineNode } from '../../define.ts';
import { seedParam } from '../../param-meta.ts';

export const vaeEncodeDef = defineNode({
  type: 'vaeEncode',
  version: 1,
  title: 'VAE Encode',
  category: 'latent',
  description:
    "Images to latents with the full VAE (scaling factor applied), as diffusers' img2img pipeline: sample draws from the latent distribution with the seed; use the same seed on UNet Denoise to match diffusers' one generator.",
  params: z.object({
    sampling: z.enum(['sample', 'mode']).default('sample').meta({
      widget: 'select',
      description: "sample: latent_dist.sample(generator) (diffusers' img2img); mode: the distribution's mean.",
    }),
    seed: seedParam('Seed of the sample (torch-compatible); the same seed as UNet Denoise matches diffusers.'),
    slicing: z.boolean().default(false).meta({ widget: 'toggle', description: 'Encode one batch image at a time.' }),
  }),
  inputs: { vae: { type: 'VAE' }, image: { type: 'IMAGE' } },
  outputs: { latent: { type: 'LATENT' } },
});
