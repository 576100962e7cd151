import { z } from 'zod';
import { defineNode } from '../../define.ts';

export const setLatentMaskDef = defineNode({
  type: 'setLatentMask',
  version: 1,
  title: 'Set Latent Mask',
  category: 'latent',
  description:
    "Inpainting with an ordinary model: UNet Denoise repaints only where the mask is white and blends the (noised) image latents back in elsewhere after each step, as diffusers' SDXL inpainting pipeline does for a 4-channel UNet. The latent comes from VAE Encode of the image the mask covers.",
  params: z.object({}),
  inputs: {
    latent: { type: 'LATENT', description: 'VAE Encode of the image to inpaint.' },
    mask: { type: 'MASK', description: 'Same size as the image: white (>= 0.5) = repaint.' },
  },
  outputs: { latent: { type: 'LATENT' } },
});
