import type { Tensor } from '@sdflow/nodes/tensor.ts';
import { describe, expect, it } from 'vitest';
import { SyntheticSource } from '../../models/synthetic-weights.ts';
import { buildUnet, textEmbedsDim } from './unet.ts';
import { parseUnetConfig } from './unet-config.ts';
import { otherUnetConfig, pseudoRandom, runOnce } from './unet-test-support.ts';

// More SDXL-family shapes than the two main tests cover: each builds from config.json alone and runs on a latent
// size the levels do not divide (diffusers' upsample_size path).
const variants: Record<string, Record<string, unknown>> = {
  'one level': {
    down_block_types: ['CrossAttnDownBlock2D'],
    up_block_types: ['CrossAttnUpBlock2D'],
    block_out_channels: [16],
    attention_head_dim: 2,
    layers_per_block: 2,
    transformer_layers_per_block: 1,
  },
  'four levels, 5 heads not dividing the channels, linear projections': {
    down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
    up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
    block_out_channels: [8, 16, 24, 24],
    attention_head_dim: 5,
    layers_per_block: 1,
    transformer_layers_per_block: 1,
    use_linear_projection: true,
  },
  'per-layer transformer depths with reverse_transformer_layers_per_block': {
    layers_per_block: 2,
    transformer_layers_per_block: [1, [1, 2], [2, 3]],
    reverse_transformer_layers_per_block: [[3, 1, 2], [2, 1, 1], 1],
  },
  'num_attention_heads, other embedding and activation options': {
    num_attention_heads: [1, 2, 3],
    attention_head_dim: [7, 7, 7],
    time_embedding_dim: 40,
    time_embedding_act_fn: 'silu',
    timestep_post_act: 'silu',
    act_fn: 'swish',
    downsample_padding: 0,
    center_input_sample: true,
    mid_block_scale_factor: 2,
    conv_in_kernel: 1,
    conv_out_kernel: 5,
    freq_shift: 1,
    flip_sin_to_cos: false,
    addition_time_embed_dim: 5,
    projection_class_embeddings_input_dim: 50,
  },
};

describe('buildUnet config variants (synthetic weights)', () => {
  for (const [name, overrides] of Object.entries(variants)) {
    it(name, async () => {
      const config = { ...otherUnetConfig, ...overrides };
      const p = textEmbedsDim(parseUnetConfig(config, 'variant/config.json'), {});
      const feeds: Record<string, Tensor> = {
        sample: pseudoRandom([2, 4, 9, 11], 1),
        timestep: { dims: [2], data: Float32Array.from([10, 900]) },
        encoder_hidden_states: pseudoRandom([2, 7, 40], 2),
        text_embeds: pseudoRandom([2, p], 3),
        time_ids: pseudoRandom([2, 6], 4),
      };
      const built = buildUnet(config, new SyntheticSource({ seed: 1 }), { precision: 'fp32', target: 'cpu' });
      const out = (await runOnce(built, feeds)).out_sample;
      expect(out?.dims).toEqual([2, 4, 9, 11]);
      expect(out?.data.every(Number.isFinite)).toBe(true);
      expect(out?.data.some((x) => x !== 0)).toBe(true);
    });
  }
});
