// config.json of transformers' CLIPTextModel / CLIPTextModelWithProjection (the fields the builder reads).
import { z } from 'zod';

export const ClipTextConfig = z.looseObject({
  hidden_size: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_hidden_layers: z.number().int().min(2),
  hidden_act: z.enum(['quick_gelu', 'gelu', 'gelu_new', 'gelu_pytorch_tanh']),
  layer_norm_eps: z.number().positive().default(1e-5),
  vocab_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive(),
  projection_dim: z.number().int().positive().optional(),
  eos_token_id: z.number().int().default(2),
  architectures: z.array(z.string()).optional(),
});
export type ClipTextConfig = z.infer<typeof ClipTextConfig>;

/** Parses a text encoder config.json, naming `file` in the error. */
export function parseClipTextConfig(json: unknown, file: string): ClipTextConfig {
  const r = ClipTextConfig.safeParse(json);
  if (!r.success) {
    const detail = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${file}: not a CLIP text encoder config usable for SDXL: ${detail}`);
  }
  return r.data;
}
