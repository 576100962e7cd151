// UNet2DConditionModel (SDXL family: text_time added conditioning) as one ONNX graph, driven only by config.json.
//
// Graph inputs (all float32; B = batch, S = sequence length, usually 77):
//   sample                 [B, in_channels, H, W]   latents (already scaled by the scheduler)
//   timestep               [1] or [B]               broadcast over the batch, as diffusers does
//   encoder_hidden_states  [B, S, D]                D = cross_attention_dim
//   text_embeds            [B, P]                   P = projection_class_embeddings_input_dim - numTimeIds * addition_time_embed_dim
//   time_ids               [B, numTimeIds]          numTimeIds = 6 for SDXL base (5 for the refiner)
// Graph output:
//   out_sample             [B, out_channels, H, W]  float32 (the model's noise prediction)
//
// Data flow (diffusers unet_2d_condition.py), weight keys in brackets:
//   emb = time_embedding(Timesteps(t))                  [time_embedding.linear_{1,2}.{weight,bias}]
//       + add_embedding(text_embeds ++ Timesteps(time_ids).reshape(B, -1))   [add_embedding.linear_{1,2}.*]
//   h = conv_in(sample)                                  [conv_in.*]      -> skip 0
//   down_blocks.i: resnets.j (+ attentions.j) per layer -> one skip each; downsamplers.0.conv -> one skip
//   mid_block: resnets.0, attentions.0, resnets.1
//   up_blocks.i: per layer concat(h, pop skip) -> resnets.j (+ attentions.j); upsamplers.0.conv
//   out = conv_out(act(conv_norm_out(h)))               [conv_norm_out.*, conv_out.*]
// ResnetBlock2D [norm1, conv1, time_emb_proj, norm2, conv2, conv_shortcut when channels change];
// Transformer2DModel [norm, proj_in, transformer_blocks.k.{norm1, attn1.to_{q,k,v}, attn1.to_out.0, norm2, attn2.*,
// norm3, ff.net.0.proj, ff.net.2}, proj_out] (proj_in/out Linear with use_linear_projection, else 1x1 Conv).
import type { WeightSource } from '../../models/weight-source.ts';
import type { BuiltModel } from '../built-model.ts';
import { GraphBuilder, type Precision, type Target } from '../graph-builder.ts';
import { parseUnetConfig, type UnetArch } from './unet-config.ts';
import { resolveFusions, type UnetFusions } from './unet-fusions.ts';
import { planUnet, UnetEmitter, type UnetState } from './unet-parts.ts';

export const UNET_INPUTS = ['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'time_ids'] as const;
export const UNET_OUTPUT = 'out_sample';

export interface UnetBuildOptions {
  precision: Precision;
  target?: Target;
  /** Entries in time_ids: 6 for SDXL base (default), 5 for the SDXL refiner. */
  numTimeIds?: number;
  attention?: 'mha' | 'matmul';
  /** target 'cuda' only: ONNX Runtime contrib-op fusions and layout over DEFAULT_CUDA_FUSIONS (unet-fusions.ts). */
  fusions?: Partial<UnetFusions>;
  /** Names config.json in errors; default `${weights.description}/config.json`. */
  configFile?: string;
}

/** config.json -> resolved architecture, with the text_embeds width checked against numTimeIds. */
export function unetArch(config: unknown, weights: WeightSource, opts: UnetBuildOptions): UnetArch {
  const file = opts.configFile ?? `${weights.description}/config.json`;
  const a = parseUnetConfig(config, file);
  if (textEmbedsDim(a, opts) <= 0) {
    throw new Error(
      `${file}: UNet config field "projection_class_embeddings_input_dim" (${a.addInputDim}) leaves no room for text_embeds ` +
        `after ${numTimeIds(opts)} time ids x addition_time_embed_dim ${a.addTimeEmbedDim}`,
    );
  }
  return a;
}

export function numTimeIds(opts: Pick<UnetBuildOptions, 'numTimeIds'>): number {
  return opts.numTimeIds ?? 6;
}

/** P, the width of text_embeds (the pooled text-encoder-2 projection for SDXL). */
export function textEmbedsDim(a: UnetArch, opts: Pick<UnetBuildOptions, 'numTimeIds'>): number {
  return a.addInputDim - numTimeIds(opts) * a.addTimeEmbedDim;
}

export function buildUnet(config: unknown, weights: WeightSource, opts: UnetBuildOptions): BuiltModel {
  const a = unetArch(config, weights, opts);
  const g = new GraphBuilder({
    name: 'unet',
    precision: opts.precision,
    weights,
    target: opts.target,
    attention: opts.attention,
  });
  const n = numTimeIds(opts);
  const sample = g.inputFloat('sample', ['batch', a.inChannels, 'height', 'width']);
  const timestep = g.input('timestep', 'float32', ['timestep_batch']);
  const ehs = g.inputFloat('encoder_hidden_states', ['batch', 'sequence', a.crossAttentionDim]);
  const textEmbeds = g.inputFloat('text_embeds', ['batch', textEmbedsDim(a, opts)]);
  const timeIds = g.input('time_ids', 'float32', ['batch', n]);
  const emitter = new UnetEmitter(g, a, n, resolveFusions(opts.target, opts.fusions));
  const state: UnetState = { ehs, skips: new Map() };
  for (const part of planUnet(a)) emitter.emit(state, part, { sample, timestep, textEmbeds, timeIds });
  g.outputFloat(state.hidden as NonNullable<UnetState['hidden']>, UNET_OUTPUT, [
    'batch',
    a.outChannels,
    'height',
    'width',
  ]);
  return g.build();
}
