import { z } from 'zod';
import type { EncodeOptions } from '../../backend.ts';

// Encode Prompt and Cache Embeddings take the same params, so switching between them keeps the prompt.
export const promptParams = z.object({
  prompt: z.string().max(10_000).default('').meta({ widget: 'textarea', description: 'What the image should show.' }),
  negativePrompt: z
    .string()
    .max(10_000)
    .default('')
    .meta({ widget: 'textarea', description: 'What the image should avoid.' }),
  encodeEmptyNegative: z.boolean().default(false).meta({
    widget: 'toggle',
    description:
      'Off: an empty negative prompt gives zero embeddings (diffusers with negative_prompt=None). On: encode "" like any prompt.',
  }),
  clipSkip: z.number().int().min(0).max(30).default(0).meta({
    widget: 'number',
    description:
      "diffusers' clip_skip: 0 = the penultimate layer (SDXL's default); k = the states k layers earlier, in both text encoders, for the prompt (the negative keeps the penultimate layer, as diffusers does). At most the text encoder's layer count minus 1.",
  }),
  weighting: z.enum(['none', 'comfy', 'a1111']).default('none').meta({
    widget: 'select',
    description:
      "Prompt weights: (word) x1.1, (word:1.5), \\( \\) literal; a1111 also [word] /1.1. comfy: weighted token states = (z - z_empty) * w + z_empty, z_empty the empty prompt's states (ComfyUI); a1111: z * w per token, rescaled to the unweighted mean (A1111). Pooled embeddings are never weighted. none: brackets are plain text.",
  }),
});
export type PromptParams = z.infer<typeof promptParams>;

/** The encoder options of the params. */
export function encodeOptionsOf(params: PromptParams): EncodeOptions {
  return { clipSkip: params.clipSkip, weighting: params.weighting };
}

/** null = no negative prompt: the backend zeroes the negative embeddings. */
export function negativeOf(params: PromptParams): string | null {
  return params.negativePrompt === '' && !params.encodeEmptyNegative ? null : params.negativePrompt;
}
