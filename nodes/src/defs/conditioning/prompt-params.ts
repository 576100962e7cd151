import { z } from 'zod';

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
});
export type PromptParams = z.infer<typeof promptParams>;

/** null = no negative prompt: the backend zeroes the negative embeddings. */
export function negativeOf(params: PromptParams): string | null {
  return params.negativePrompt === '' && !params.encodeEmptyNegative ? null : params.negativePrompt;
}
