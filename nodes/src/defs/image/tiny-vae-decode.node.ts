import { z } from 'zod';
import { defineNode } from '../../define.ts';
import { tinyVaeDecodeCost } from '../../run-cost-model.ts';

export const tinyVaeDecodeDef = defineNode({
  type: 'tinyVaeDecode',
  version: 1,
  title: 'Tiny VAE Decode',
  category: 'image',
  description: 'Latents to images with TAESD-XL: much faster and lighter than the full VAE, slightly softer.',
  params: z.object({}),
  inputs: { taesd: { type: 'TAESD' }, latent: { type: 'LATENT' } },
  outputs: { image: { type: 'IMAGE' } },
  cost: (_p, latent) => (latent ? tinyVaeDecodeCost(latent) : {}),
});
