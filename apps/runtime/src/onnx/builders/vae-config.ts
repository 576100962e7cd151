import { z } from 'zod';

// AutoencoderKL's config.json (diffusers), the fields the VAE builders read; unknown keys pass through.

const PositiveInt = z.number().int().positive();

export const AutoencoderKLConfig = z
  .looseObject({
    in_channels: PositiveInt.default(3),
    out_channels: PositiveInt.default(3),
    latent_channels: PositiveInt.default(4),
    block_out_channels: z.array(PositiveInt).min(1).default([64]),
    layers_per_block: PositiveInt.default(1),
    norm_num_groups: PositiveInt.default(32),
    act_fn: z.enum(['silu', 'swish']).default('silu'),
    down_block_types: z.array(z.literal('DownEncoderBlock2D')).optional(),
    up_block_types: z.array(z.literal('UpDecoderBlock2D')).optional(),
    mid_block_add_attention: z.boolean().default(true),
    use_quant_conv: z.boolean().default(true),
    use_post_quant_conv: z.boolean().default(true),
    force_upcast: z.boolean().default(true),
    scaling_factor: z.number().default(0.18215),
    shift_factor: z.number().nullable().default(null),
  })
  .superRefine((c, ctx) => {
    const levels = c.block_out_channels.length;
    for (const key of ['down_block_types', 'up_block_types'] as const) {
      const types = c[key];
      if (types && types.length !== levels) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `has ${types.length} entries, block_out_channels ${levels}`,
        });
      }
    }
    for (const ch of c.block_out_channels) {
      if (ch % c.norm_num_groups !== 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['block_out_channels'],
          message: `${ch} channels are not divisible by norm_num_groups ${c.norm_num_groups}`,
        });
      }
    }
  });
export type AutoencoderKLConfig = z.infer<typeof AutoencoderKLConfig>;

/** Parses a VAE config, naming `where` (the config file) in the error. */
export function parseVaeConfig(json: unknown, where: string): AutoencoderKLConfig {
  const r = AutoencoderKLConfig.safeParse(json);
  if (!r.success) {
    const detail = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${where}: not an AutoencoderKL config usable for SDXL: ${detail}`);
  }
  return r.data;
}

/** Pixel size per latent pixel: 2 ** (levels - 1), as diffusers' vae_scale_factor. */
export function vaeScaleFactor(c: { block_out_channels: readonly number[] }): number {
  return 2 ** (c.block_out_channels.length - 1);
}
