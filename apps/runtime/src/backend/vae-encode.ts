import type { Tensor } from '@sdflow/nodes/tensor.ts';
import type { Latent } from '@sdflow/nodes/values.ts';
import { TorchGenerator } from '../sdxl/torch-rng.ts';
import { throwIfAborted } from './abort.ts';
import { batchSlice, concatBatch } from './image-convert.ts';

// VAE Encode as StableDiffusionXLImg2ImgPipeline: VaeImageProcessor's normalize (2x - 1, NCHW), vae.encode,
// retrieve_latents (latent_dist.sample(generator) or .mode()), then scaling_factor * latents (float32 throughout).

/** The encoder's latent distribution: mean and logvar (clamped to [-30, 20] in the graph), [B, C, h, w]. */
export interface LatentDistribution {
  readonly mean: Tensor;
  readonly logvar: Tensor;
}

export type Encoder = (sample: Tensor) => Promise<LatentDistribution>;

export interface EncodeOptions {
  readonly sampling: 'sample' | 'mode';
  readonly seed: number;
  readonly slicing: boolean;
  readonly scalingFactor: number;
  readonly shiftFactor: number;
  readonly signal: AbortSignal;
  readonly onProgress: (done: number, total: number) => void;
}

/** NHWC images in [0, 1] -> NCHW encoder input in [-1, 1], as diffusers' `2.0 * images - 1.0`. */
export function imagesToEncoderInput(images: Tensor): Tensor {
  const [b, h, w, c] = images.dims as [number, number, number, number];
  if (c !== 3) throw new Error(`vae_encoder: images have ${c} channels, expected 3 (RGB)`);
  const plane = h * w;
  const out = new Float32Array(b * 3 * plane);
  const src = images.data;
  for (let i = 0; i < b; i++) {
    for (let ch = 0; ch < 3; ch++) {
      const o = (i * 3 + ch) * plane;
      for (let p = 0, s = i * plane * 3 + ch; p < plane; p++, s += 3) out[o + p] = 2 * (src[s] as number) - 1;
    }
  }
  return { dims: [b, 3, h, w], data: out };
}

/** Encodes the batch (one image per call when slicing), then samples or takes the mode and scales. */
export async function encodeImages(images: Tensor, encode: Encoder, o: EncodeOptions): Promise<Latent> {
  const x = imagesToEncoderInput(images);
  const batch = x.dims[0]!;
  const chunks = o.slicing ? Array.from({ length: batch }, (_, i) => [i, i + 1] as const) : [[0, batch] as const];
  const means: Tensor[] = [];
  const logvars: Tensor[] = [];
  for (const [from, to] of chunks) {
    throwIfAborted(o.signal);
    const d = await encode(chunks.length === 1 ? x : batchSlice(x, from, to));
    means.push(d.mean);
    logvars.push(d.logvar);
    o.onProgress(to, batch);
  }
  // diffusers' sliced encode concatenates the distributions' parameters, then samples the whole batch at once
  const mean = means.length === 1 ? means[0]! : concatBatch(means);
  const logvar = logvars.length === 1 ? logvars[0]! : concatBatch(logvars);
  checkFinite(mean, logvar);
  return latentFrom({ mean, logvar }, o);
}

/** retrieve_latents + scaling: sample = mean + exp(0.5 * logvar) * randn(mean.shape, generator), or the mean. */
export function latentFrom(
  d: LatentDistribution,
  o: Pick<EncodeOptions, 'sampling' | 'seed' | 'scalingFactor' | 'shiftFactor'>,
): Latent {
  const f = Math.fround;
  const scale = f(o.scalingFactor);
  const shift = f(o.shiftFactor);
  const mean = d.mean.data;
  let z: Float32Array;
  if (o.sampling === 'mode') {
    z = mean.map((m) => f(f(m - shift) * scale));
  } else {
    const eps = new TorchGenerator(o.seed).randn(d.mean.dims);
    const logvar = d.logvar.data;
    z = mean.map((m, i) => {
      const std = f(Math.exp(f(0.5 * (logvar[i] as number))));
      const x = f(m + f(std * (eps[i] as number)));
      return f(f(x - shift) * scale);
    });
  }
  return {
    samples: { dims: [...d.mean.dims], data: z },
    kind: 'image',
    ...(o.sampling === 'sample' ? { drawn: { seed: o.seed, count: z.length } } : {}),
  };
}

function checkFinite(mean: Tensor, logvar: Tensor): void {
  let bad = 0;
  for (let i = 0; i < mean.data.length; i++) bad += (mean.data[i] as number) * 0 + (logvar.data[i] as number) * 0;
  if (bad !== 0) throw new EncoderOverflow();
}

/** An fp16 encoder gave NaN or infinite values (the caller may encode again in fp32). */
export class EncoderOverflow extends Error {
  constructor() {
    super('vae_encoder: the latent distribution holds NaN or infinite values');
  }
}
