import type { Tensor } from '@sdflow/nodes/tensor.ts';
import { tensor } from '@sdflow/nodes/tensor.ts';
import type { Conditioning } from '@sdflow/nodes/values.ts';

// SDXL prompt conditioning and classifier-free guidance as diffusers' StableDiffusionXLPipeline.

const f = Math.fround;

/** concat(TE1 hidden_states[-2], TE2 hidden_states[-2]) on the last axis: [1, 77, D1] + [1, 77, D2] -> [1, 77, D1 + D2]. */
export function concatHiddenStates(te1: Tensor, te2: Tensor): Tensor {
  const [b1, l1, d1] = te1.dims;
  const [b2, l2, d2] = te2.dims;
  if (te1.dims.length !== 3 || te2.dims.length !== 3 || b1 !== b2 || l1 !== l2) {
    throw new Error(
      `conditioning: text encoder states [${te1.dims.join(', ')}] and [${te2.dims.join(', ')}] cannot be concatenated`,
    );
  }
  const rows = b1! * l1!;
  const out = new Float32Array(rows * (d1! + d2!));
  for (let r = 0; r < rows; r++) {
    out.set(te1.data.subarray(r * d1!, (r + 1) * d1!), r * (d1! + d2!));
    out.set(te2.data.subarray(r * d2!, (r + 1) * d2!), r * (d1! + d2!) + d1!);
  }
  return tensor([b1!, l1!, d1! + d2!], out);
}

export function zerosLike(t: Tensor): Tensor {
  return tensor(t.dims);
}

/** Encoded prompt halves; a null negative becomes zeros (force_zeros_for_empty_prompt; diffusers zeroes only None). */
export function makeConditioning(
  positive: { embeds: Tensor; pooled: Tensor },
  negative: { embeds: Tensor; pooled: Tensor } | null,
): Conditioning {
  return {
    promptEmbeds: positive.embeds,
    pooledPromptEmbeds: positive.pooled,
    negativePromptEmbeds: negative?.embeds ?? zerosLike(positive.embeds),
    negativePooledPromptEmbeds: negative?.pooled ?? zerosLike(positive.pooled),
  };
}

/** add_time_ids: original size, crop top-left (0, 0), target size — all the generated size. */
export function addTimeIds(height: number, width: number): number[] {
  return [height, width, 0, 0, height, width];
}

export interface UnetConditioningBatch {
  readonly encoderHiddenStates: Tensor; // [2B, 77, D] (or [B, ...] without CFG)
  readonly textEmbeds: Tensor; // [2B, P]
  readonly timeIds: Tensor; // [2B, 6]
  readonly cfg: boolean;
}

function repeatRows(t: Tensor, times: number): Float32Array {
  const out = new Float32Array(t.data.length * times);
  for (let i = 0; i < times; i++) out.set(t.data, i * t.data.length);
  return out;
}

/**
 * UNet conditioning for a batch of `batch` latents. With CFG (guidance > 1) the batch is [negative x B, positive x B],
 * the order diffusers concatenates them in.
 */
export function unetConditioning(
  c: Conditioning,
  batch: number,
  size: { height: number; width: number },
  guidance: number,
): UnetConditioningBatch {
  const cfg = guidance > 1;
  const [, seq, dim] = c.promptEmbeds.dims;
  const pooledDim = c.pooledPromptEmbeds.dims[1]!;
  const halves = cfg ? [c.negativePromptEmbeds, c.promptEmbeds] : [c.promptEmbeds];
  const pooledHalves = cfg ? [c.negativePooledPromptEmbeds, c.pooledPromptEmbeds] : [c.pooledPromptEmbeds];
  const rows = halves.length * batch;
  const ehs = new Float32Array(rows * seq! * dim!);
  const pooled = new Float32Array(rows * pooledDim);
  for (const [i, h] of halves.entries()) ehs.set(repeatRows(h, batch), i * batch * seq! * dim!);
  for (const [i, p] of pooledHalves.entries()) pooled.set(repeatRows(p, batch), i * batch * pooledDim);
  const ids = addTimeIds(size.height, size.width);
  const timeIds = new Float32Array(rows * 6);
  for (let r = 0; r < rows; r++) timeIds.set(ids, r * 6);
  return {
    encoderHiddenStates: tensor([rows, seq!, dim!], ehs),
    textEmbeds: tensor([rows, pooledDim], pooled),
    timeIds: tensor([rows, 6], timeIds),
    cfg,
  };
}

/** noise_pred_uncond + g * (noise_pred_text - noise_pred_uncond) over the [uncond, text] halves, in float32. */
export function applyGuidance(
  noisePred: Float32Array,
  guidance: number,
  out = new Float32Array(noisePred.length / 2),
): Float32Array {
  const half = noisePred.length / 2;
  const g = f(guidance);
  for (let i = 0; i < half; i++) {
    const u = noisePred[i]!;
    out[i] = f(u + f(g * f(noisePred[half + i]! - u)));
  }
  return out;
}
