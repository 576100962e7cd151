import { z } from 'zod';
import { defineNode } from '../../define.ts';
import { seedParam } from '../../param-meta.ts';
import { unetCost } from '../../run-cost-model.ts';
import { SCHEDULER_NAMES } from './scheduler-names.ts';

export const unetDenoiseDef = defineNode({
  type: 'unetDenoise',
  version: 1,
  title: 'UNet Denoise',
  category: 'sampling',
  description:
    'The sampling loop: classifier-free guidance over the UNet for each scheduler step. Reports every step and sends previews.',
  params: z.object({
    steps: z.number().int().min(1).max(1000).default(30).meta({ widget: 'number', description: 'Denoising steps.' }),
    cfg: z.number().min(0).max(100).default(5).meta({
      widget: 'slider',
      step: 0.1,
      description: 'Classifier-free guidance scale; 1 or less skips the negative pass.',
    }),
    scheduler: z.enum(SCHEDULER_NAMES).default('euler').meta({
      widget: 'select',
      description:
        "Sampler and sigma schedule, matching diffusers' schedulers step for step: Euler, Euler a, DPM++ 2M, DPM++ 2M SDE, DDIM, LCM; _karras / _exponential: Karras or exponential sigmas. Samplers that add noise draw it from the seed.",
    }),
    seed: seedParam('Seed for ancestral noise and img2img noise.'),
    denoise: z.number().min(0).max(1).default(1).meta({
      widget: 'slider',
      step: 0.01,
      description: '1 = text-to-image from noise; below 1 = img2img strength on an image latent.',
    }),
    previewMethod: z.enum(['none', 'latent2rgb', 'taesd']).default('latent2rgb').meta({
      widget: 'select',
      description: 'latent2rgb: SDXL linear factors, nearly free; taesd: needs a tiny VAE on previewDecoder.',
    }),
    previewEvery: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(1)
      .meta({ widget: 'number', description: 'Send a preview every N steps.' }),
  }),
  inputs: {
    unet: { type: 'UNET' },
    conditioning: { type: 'CONDITIONING' },
    latent: { type: 'LATENT' },
    previewDecoder: { type: 'TAESD', optional: true, description: 'Tiny VAE for previewMethod "taesd".' },
  },
  outputs: { latent: { type: 'LATENT' } },
  cost: (p, latent) => (latent ? unetCost(latent, p.steps, p.cfg > 1) : {}),
});
