// CLIPTextModel (SDXL text_encoder) and CLIPTextModelWithProjection (text_encoder_2), as transformers computes them.
//
// Graph input:  input_ids int64 [batch, max_position_embeddings] (no attention mask: causal only, as SDXL pipelines).
// Graph outputs (float32):
//   hidden_states_m2   [batch, seq, hidden]   hidden_states[-2] (input of the last encoder layer)
//   hidden_states.N    [batch, seq, hidden]   hidden_states[N] for N < num_hidden_layers - 1: the embeddings (0) and
//                                             the earlier layers' outputs, for clip skip (Optimum's names)
//   last_hidden_state  [batch, seq, hidden]   after final_layer_norm
//   pooler_output      [batch, hidden]        last_hidden_state at the EOS token   (withProjection: false)
//   text_embeds        [batch, projection]    text_projection(pooler_output)       (withProjection: true)

import type { Tensor } from '@sdflow/nodes/tensor.ts';
import type { WeightSource } from '../../models/weight-source.ts';
import type { BuiltModel } from '../built-model.ts';
import { GraphBuilder, type Precision, type Target, type Value } from '../graph-builder.ts';
import { type ClipTextConfig, parseClipTextConfig } from './clip-text-config.ts';

export interface ClipTextBuildOptions {
  precision: Precision;
  target?: Target;
  attention?: 'mha' | 'matmul';
  /** CLIPTextModelWithProjection: adds text_embeds. Default: from config.architectures, else whether
   *  the weights hold text_projection.weight. */
  withProjection?: boolean;
  name?: string;
  /** Names config.json in errors; default `${weights.description}/config.json`. */
  configFile?: string;
}

export const CLIP_TEXT_INPUTS = ['input_ids'] as const;

export function buildClipText(rawConfig: unknown, weights: WeightSource, opts: ClipTextBuildOptions): BuiltModel {
  const cfg = parseClipTextConfig(rawConfig, opts.configFile ?? `${weights.description}/config.json`);
  const D = cfg.hidden_size;
  const H = cfg.num_attention_heads;
  if (D % H !== 0) throw new Error(`CLIP text config: hidden_size ${D} is not divisible by num_attention_heads ${H}`);
  const S = cfg.max_position_embeddings;
  const withProjection =
    opts.withProjection ??
    (cfg.architectures?.includes('CLIPTextModelWithProjection') || weights.has('text_projection.weight'));
  const b = new GraphBuilder({
    name: opts.name ?? (withProjection ? 'text_encoder_2' : 'text_encoder'),
    precision: opts.precision,
    weights,
    target: opts.target,
    attention: opts.attention,
  });
  // transformers <= 4 saved "text_model."-prefixed keys for both classes; 5.x drops it for CLIPTextModel
  const p = weights.has('text_model.embeddings.token_embedding.weight') ? 'text_model.' : '';

  const ids = b.input('input_ids', 'int64', ['batch', S]);
  const tok = b.op1('Gather', [b.param(`${p}embeddings.token_embedding.weight`, [cfg.vocab_size, D]), ids], {
    axis: 0,
  });
  let x = b.op1('Add', [tok, b.param(`${p}embeddings.position_embedding.weight`, [S, D])]);

  let penultimate: Value | undefined;
  const earlier: Value[] = [];
  for (let i = 0; i < cfg.num_hidden_layers; i++) {
    if (i === cfg.num_hidden_layers - 1) penultimate = x;
    else earlier.push(x);
    x = encoderLayer(b, x, `${p}encoder.layers.${i}`, cfg);
  }
  const last = b.layerNorm(x, `${p}final_layer_norm`, D, cfg.layer_norm_eps);
  b.outputFloat(penultimate as Value, 'hidden_states_m2', ['batch', S, D]);
  b.outputFloat(last, 'last_hidden_state', ['batch', S, D]);
  earlier.forEach((h, i) => {
    b.outputFloat(h, `hidden_states.${i}`, ['batch', S, D]);
  });

  const pooled = b.op1(
    'GatherND',
    [last, b.op1('Unsqueeze', [eosIndex(b, ids, cfg.eos_token_id), b.constInt64([1])])],
    { batch_dims: 1 },
  );
  if (withProjection) {
    const P = cfg.projection_dim ?? D;
    b.outputFloat(b.linear(pooled, 'text_projection', D, P, false), 'text_embeds', ['batch', P]);
  } else {
    b.outputFloat(pooled, 'pooler_output', ['batch', D]);
  }
  return b.build();
}

/** transformers: legacy configs (eos_token_id == 2) pool at argmax(input_ids) (the EOS has the highest id);
 *  otherwise at the first position whose id equals eos_token_id. ArgMax returns the first maximum. */
function eosIndex(b: GraphBuilder, ids: Value, eos: number): Value {
  const key = eos === 2 ? ids : b.op1('Equal', [ids, b.constInt64(eos)]);
  return b.op1('ArgMax', [b.cast(key, 'float32')], { axis: -1, keepdims: 0 });
}

function encoderLayer(b: GraphBuilder, x: Value, prefix: string, cfg: ClipTextConfig): Value {
  const D = cfg.hidden_size;
  const h = b.layerNorm(x, `${prefix}.layer_norm1`, D, cfg.layer_norm_eps);
  const q = b.linear(h, `${prefix}.self_attn.q_proj`, D, D);
  const k = b.linear(h, `${prefix}.self_attn.k_proj`, D, D);
  const v = b.linear(h, `${prefix}.self_attn.v_proj`, D, D);
  const att = b.mha(q, k, v, cfg.num_attention_heads, { causal: true });
  const x1 = b.op1('Add', [x, b.linear(att, `${prefix}.self_attn.out_proj`, D, D)]);
  const h2 = b.layerNorm(x1, `${prefix}.layer_norm2`, D, cfg.layer_norm_eps);
  let m = b.linear(h2, `${prefix}.mlp.fc1`, D, cfg.intermediate_size);
  if (cfg.hidden_act === 'quick_gelu') m = b.quickGelu(m);
  else if (cfg.hidden_act === 'gelu') m = b.gelu(m);
  else m = b.gelu(m, 'tanh');
  return b.op1('Add', [x1, b.linear(m, `${prefix}.mlp.fc2`, cfg.intermediate_size, D)]);
}

/** Our output names from a text encoder export that names hidden states `hidden_states.N` (Optimum's, N = 0 for
 *  the embeddings .. num_hidden_layers): hidden_states_m2 = hidden_states.{layers - 1}. Our names pass through. */
export function clipTextOutputs(out: Record<string, Tensor>, numHiddenLayers: number): Record<string, Tensor> {
  const m2 = out.hidden_states_m2 ?? out[`hidden_states.${numHiddenLayers - 1}`];
  if (!m2) throw new Error(`text encoder export has neither hidden_states_m2 nor hidden_states.${numHiddenLayers - 1}`);
  const result: Record<string, Tensor> = { hidden_states_m2: m2 };
  for (const k of ['last_hidden_state', 'pooler_output', 'text_embeds']) if (out[k]) result[k] = out[k];
  for (let i = 0; i < numHiddenLayers - 1; i++) {
    const h = out[`hidden_states.${i}`];
    if (h) result[`hidden_states.${i}`] = h;
  }
  return result;
}

/** diffusers' clip_skip for SDXL: hidden_states[-(clipSkip + 2)], the penultimate layer's input at 0. */
export function clipSkipOutput(clipSkip: number, numHiddenLayers: number): string {
  const index = numHiddenLayers - 1 - clipSkip;
  if (!Number.isInteger(clipSkip) || clipSkip < 0 || index < 0) {
    throw new Error(
      `clip skip ${clipSkip}: the text encoder has ${numHiddenLayers} layers (0 to ${numHiddenLayers - 1})`,
    );
  }
  return clipSkip === 0 ? 'hidden_states_m2' : `hidden_states.${index}`;
}
