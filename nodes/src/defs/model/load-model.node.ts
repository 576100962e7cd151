import { z } from 'zod';
import { defineNode } from '../../define.ts';
import { deviceParam, modelName, precisionParam } from '../../param-meta.ts';

export const loadModelDef = defineNode({
  type: 'loadModel',
  version: 1,
  title: 'Load Model',
  category: 'model',
  description:
    'An SDXL pipeline in diffusers layout from the models folder; "default" is the built-in test model (random weights: its images are noise). Components load lazily, when first used.',
  params: z.object({
    model: modelName(
      'models',
      'Diffusers folder under the models directory, or "default" for the built-in test model.',
    ),
    precision: precisionParam(),
    device: deviceParam(),
    attention: z.enum(['fused', 'plain']).default('fused').meta({
      widget: 'select',
      description:
        "UNet attention: fused = com.microsoft MultiHeadAttention (flash attention on CUDA); plain = MatMul + Softmax, the counterpart of diffusers' default attention processor (set_default_attn_processor).",
    }),
  }),
  inputs: {
    offload: { type: 'OFFLOAD', optional: true, description: 'How components share memory; none when unconnected.' },
  },
  outputs: {
    unet: { type: 'UNET' },
    clip: { type: 'CLIP', description: 'Both SDXL text encoders and tokenizers.' },
    vae: { type: 'VAE' },
  },
});
