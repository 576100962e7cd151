import { z } from 'zod';
import { defineNode } from '../../define.ts';
import { vaeDecodeCost } from '../../run-cost-model.ts';

export const vaeDecodeDef = defineNode({
  type: 'vaeDecode',
  version: 1,
  title: 'VAE Decode',
  category: 'image',
  description:
    'Latents to images with the full VAE. Slicing decodes one image at a time; tiling decodes overlapping tiles and blends them; both cut peak memory.',
  params: z
    .object({
      slicing: z.boolean().default(false).meta({ widget: 'toggle', description: 'Decode one batch image at a time.' }),
      tiling: z.boolean().default(false).meta({ widget: 'toggle', description: 'Decode in overlapping tiles.' }),
      tileSize: z
        .number()
        .int()
        .min(64)
        .max(4096)
        .default(512)
        .meta({ widget: 'number', step: 64, description: 'Tile side in pixels.' }),
      tileOverlap: z
        .number()
        .int()
        .min(0)
        .max(1024)
        .default(64)
        .meta({ widget: 'number', step: 8, description: 'Overlap between tiles in pixels, blended linearly.' }),
      autoTiling: z.boolean().default(true).meta({
        widget: 'toggle',
        description: 'Retry with tiling when the plain decode runs out of memory.',
      }),
    })
    .refine((p) => p.tileOverlap < p.tileSize, {
      path: ['tileOverlap'],
      message: 'tileOverlap must be smaller than tileSize',
    }),
  inputs: { vae: { type: 'VAE' }, latent: { type: 'LATENT' } },
  outputs: { image: { type: 'IMAGE' } },
  cost: (p, latent) => (latent ? vaeDecodeCost(latent, p) : {}),
});
