// The UNet's conditioning vector: Timesteps + TimestepEmbedding (time_embedding) plus SDXL's text_time
// add_embedding over concat(text_embeds, Timesteps(time_ids)) (diffusers embeddings.py, unet_2d_condition.py).
import type { GraphBuilder, Value } from '../graph-builder.ts';
import { constF32 } from '../layers.ts';
import { activation } from './unet-blocks.ts';
import type { Activation, UnetArch } from './unet-config.ts';

/**
 * The frequencies of diffusers' get_timestep_embedding, rounded to float32 at each step as torch computes them:
 * exp(-ln(10000) * i / (half - shift)).
 */
export function timestepFrequencies(dim: number, shift: number): number[] {
  const half = Math.floor(dim / 2);
  const f = Math.fround;
  const negLog = f(-Math.log(10000));
  const denom = f(half - shift);
  return Array.from({ length: half }, (_, i) => f(Math.exp(f(f(negLog * i) / denom))));
}

/** Sinusoidal embedding of a float32 [N] vector -> [N, dim] float32 ([cos, sin] with flip_sin_to_cos). */
export function sinusoidalEmbedding(
  g: GraphBuilder,
  t: Value,
  dim: number,
  flipSinToCos: boolean,
  shift: number,
): Value {
  const freqs = timestepFrequencies(dim, shift);
  const args = g.op1('Mul', [g.op1('Unsqueeze', [t, g.constInt64([1])]), constF32(g, freqs, [1, freqs.length])]);
  const sin = g.op1('Sin', [args]);
  const cos = g.op1('Cos', [args]);
  const emb = g.op1('Concat', flipSinToCos ? [cos, sin] : [sin, cos], { axis: -1 });
  if (dim % 2 === 0) return emb;
  return g.op1('Pad', [emb, g.constInt64([0, 0, 0, 1])]);
}

/** TimestepEmbedding: linear_1 -> act -> linear_2 (-> post_act). */
function timestepEmbedding(
  g: GraphBuilder,
  x: Value,
  prefix: string,
  inDim: number,
  outDim: number,
  act: Activation,
  postAct?: Activation,
): Value {
  const h = g.linear(
    activation(g, g.linear(x, `${prefix}.linear_1`, inDim, outDim), act),
    `${prefix}.linear_2`,
    outDim,
    outDim,
  );
  return postAct ? activation(g, h, postAct) : h;
}

export interface ConditioningInputs {
  /** float32 [1] or [B]; broadcast over the batch as diffusers does. */
  timestep: Value;
  /** [B, P] in floatType (P = projection_class_embeddings_input_dim - numTimeIds * addition_time_embed_dim). */
  textEmbeds: Value;
  /** float32 [B, numTimeIds]. */
  timeIds: Value;
  /** Any tensor whose dim 0 is the batch size B. */
  batchLike: Value;
}

/** emb [B, time_embed_dim] in floatType: time_embedding(t) + add_embedding(text_embeds ++ time_ids). */
export function conditioningEmbedding(
  g: GraphBuilder,
  a: UnetArch,
  inputs: ConditioningInputs,
  numTimeIds: number,
): Value {
  const batch = g.op1('Slice', [g.op1('Shape', [inputs.batchLike]), g.constInt64([0]), g.constInt64([1])]);
  const t = g.op1('Expand', [inputs.timestep, batch]);
  const tProj = sinusoidalEmbedding(g, t, a.timeProjDim, a.flipSinToCos, a.freqShift);
  const tEmb = timestepEmbedding(
    g,
    toFloat(g, tProj),
    'time_embedding',
    a.timeProjDim,
    a.timeEmbedDim,
    a.act,
    a.timestepPostAct,
  );
  const ids = g.op1('Reshape', [inputs.timeIds, g.constInt64([-1])]);
  const idsProj = sinusoidalEmbedding(g, ids, a.addTimeEmbedDim, a.flipSinToCos, a.freqShift);
  // [B*n, A] -> [B, n*A]
  const idsRows = g.op1('Reshape', [idsProj, g.constInt64([-1, numTimeIds * a.addTimeEmbedDim])]);
  const addIn = g.op1('Concat', [inputs.textEmbeds, toFloat(g, idsRows)], { axis: -1 });
  // diffusers builds add_embedding with TimestepEmbedding's default act ("silu"), not act_fn
  const aug = timestepEmbedding(g, addIn, 'add_embedding', a.addInputDim, a.timeEmbedDim, 'silu');
  const emb = g.op1('Add', [tEmb, aug]);
  return a.timeEmbeddingAct ? activation(g, emb, a.timeEmbeddingAct) : emb;
}

function toFloat(g: GraphBuilder, v: Value): Value {
  return g.floatType === 'float32' ? v : g.cast(v, g.floatType);
}
