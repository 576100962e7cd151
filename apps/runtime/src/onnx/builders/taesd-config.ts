import { z } from 'zod';

// AutoencoderTiny's config.json (diffusers; TAESD / TAESD-XL), the fields the TAESD builders read.

const PositiveInt = z.number().int().positive();

export const AutoencoderTinyConfig = z
  .looseObject({
    in_channels: PositiveInt.default(3),
    out_channels: PositiveInt.default(3),
    latent_channels: PositiveInt.default(4),
    encoder_block_out_channels: z.array(PositiveInt).min(1).default([64, 64, 64, 64]),
    decoder_block_out_channels: z.array(PositiveInt).min(1).default([64, 64, 64, 64]),
    num_encoder_blocks: z.array(z.number().int().nonnegative()).min(1).default([1, 3, 3, 3]),
    num_decoder_blocks: z.array(z.number().int().nonnegative()).min(1).default([3, 3, 3, 1]),
    act_fn: z.enum(['relu', 'silu', 'swish']).default('relu'),
    upsample_fn: z.enum(['nearest', 'bilinear']).default('nearest'),
    upsampling_scaling_factor: PositiveInt.default(2),
    latent_magnitude: z.number().default(3),
    latent_shift: z.number().default(0.5),
    scaling_factor: z.number().default(1),
    shift_factor: z.number().default(0),
  })
  .superRefine((c, ctx) => {
    if (c.encoder_block_out_channels.length !== c.num_encoder_blocks.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['num_encoder_blocks'],
        message: 'must have as many entries as encoder_block_out_channels',
      });
    }
    if (c.decoder_block_out_channels.length !== c.num_decoder_blocks.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['num_decoder_blocks'],
        message: 'must have as many entries as decoder_block_out_channels',
      });
    }
  });
export type AutoencoderTinyConfig = z.infer<typeof AutoencoderTinyConfig>;

/** Parses a TAESD config, naming `where` (the config file) in the error. */
export function parseTaesdConfig(json: unknown, where: string): AutoencoderTinyConfig {
  const r = AutoencoderTinyConfig.safeParse(json);
  if (!r.success) {
    const detail = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${where}: not an AutoencoderTiny config: ${detail}`);
  }
  return r.data;
}
