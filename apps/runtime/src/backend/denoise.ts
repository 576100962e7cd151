import type { DenoiseRequest } from '@sdflow/nodes/backend.ts';
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import type { Images, Latent } from '@sdflow/nodes/values.ts';
import { unetConditioning } from '../sdxl/conditioning.ts';
import { latentToRgb } from '../sdxl/latent2rgb.ts';
import { createScheduler, firstStepForStrength } from '../sdxl/schedulers/create-scheduler.ts';
import type { SchedulerConfig } from '../sdxl/schedulers/scheduler-config.ts';
import { TorchGenerator } from '../sdxl/torch-rng.ts';
import { throwIfAborted } from './abort.ts';
import type { DenoiseLoop, LoopStart } from './denoise-loop.ts';
import { type NoiseSource, noiseInline } from './noise-ahead.ts';

// The denoising loop of StableDiffusionXLPipeline (and its img2img variant for denoise < 1), CFG in one UNet call.

export interface DenoiseDeps {
  readonly schedulerConfig: SchedulerConfig;
  readonly vaeScaleFactor: number;
  /** The loop's state between steps: host arrays (hostLoop) or the device's tensors (device-loop.ts). */
  startLoop(start: LoopStart): Promise<DenoiseLoop>;
  /** TAESD decode of batch image 0 (UNet-space latents), for previews. */
  taesdPreview?(latents: Tensor): Promise<Images>;
  /** Where an ancestral sampler's `count` draws of n normals come from (noise-ahead.ts); default: drawn here, in turn. */
  noise?(generator: TorchGenerator, n: number, count: number): NoiseSource;
}

export async function denoise(req: DenoiseRequest, deps: DenoiseDeps): Promise<Latent> {
  const dims = req.latent.samples.dims;
  if (dims.length !== 4) throw new Error(`unetDenoise: latent must be [B, C, h, w], got [${dims.join(', ')}]`);
  const [batch, channels, h, w] = dims as [number, number, number, number];
  if (channels !== req.unet.model.latentChannels) {
    throw new Error(`unetDenoise: latent has ${channels} channels, the UNet takes ${req.unet.model.latentChannels}`);
  }
  const scheduler = createScheduler(req.scheduler, deps.schedulerConfig, req.steps);
  const start = firstStepForStrength(req.steps, req.denoise);
  const generator = new TorchGenerator(req.seed);
  const n = req.latent.samples.data.length;
  let x: Float32Array;
  let blendAfter: ((i: number) => (x: Float32Array) => void) | undefined;
  if (req.latent.kind === 'noise') {
    // Empty Latent noise: scaled by init_noise_sigma (diffusers' `latents=`); partial denoise noises zeros
    x =
      start === 0
        ? req.latent.samples.data.map((v) => Math.fround(v * scheduler.initNoiseSigma))
        : scheduler.addNoise(new Float32Array(n), req.latent.samples.data, start);
  } else {
    // img2img: noise from the seed, added at the first timestep that runs (diffusers' prepare_latents); where VAE
    // Encode sampled from a generator of the same seed, after its draws, as the pipeline's one generator
    const drawn = req.latent.drawn;
    const oneGenerator = drawn !== undefined && drawn.seed === req.seed;
    if (oneGenerator) generator.randn([drawn.count]);
    const noise = generator.randn(dims);
    if (req.latent.mask) {
      // diffusers' inpainting pipeline also encodes the masked image with the generator (a 4-channel UNet never
      // reads it), then starts from pure noise at strength 1
      if (oneGenerator) generator.randn([drawn.count]);
      const image = req.latent.samples.data;
      x =
        req.denoise === 1
          ? noise.map((v) => Math.fround(v * scheduler.initNoiseSigma))
          : scheduler.addNoise(image, noise, start);
      blendAfter = inpaintBlend(req.latent.mask, image, noise, scheduler, channels);
    } else {
      x = scheduler.addNoise(req.latent.samples.data, noise, start);
    }
  }
  const cond = unetConditioning(
    req.conditioning,
    batch,
    { height: h * deps.vaeScaleFactor, width: w * deps.vaeScaleFactor },
    req.cfg,
  );
  const total = scheduler.timesteps.length - start;
  // each step's coefficients, once: they also tell how many noise draws the run takes
  const perStep = Array.from({ length: total }, (_, k) => scheduler.coefficients(start + k, k));
  // the ancestral sampler's noise, drawn when diffusers' step draws it: one generator.randn([n]) per such step
  const draws = perStep.filter((c) => c.prevNoise !== 0).length;
  const loop = await deps.startLoop({
    x: { dims, data: x },
    divisor: scheduler.inputDivisor(start),
    cond,
    ...(blendAfter ? { blends: true } : {}),
  });
  let noise: NoiseSource | undefined;
  try {
    if (draws > 0) noise = (deps.noise ?? noiseInline)(generator, n, draws);
    for (let i = start; i < scheduler.timesteps.length; i++) {
      throwIfAborted(req.signal);
      const coefficients = perStep[i - start]!;
      await loop.step({
        timestep: scheduler.timesteps[i]!,
        coefficients,
        guidance: req.cfg,
        nextDivisor: i + 1 < scheduler.timesteps.length ? scheduler.inputDivisor(i + 1) : 1,
        noise: coefficients.prevNoise !== 0 && noise ? await noise.next() : undefined,
        ...(blendAfter ? { blend: blendAfter(i) } : {}),
      });
      const step = i - start + 1;
      req.onStep({ step, total });
      if (req.preview.method !== 'none' && (step % Math.max(1, req.preview.every) === 0 || step === total)) {
        const x0 = { dims, data: await loop.pred() };
        if (req.preview.method === 'latent2rgb') req.onPreview({ images: latentToRgb(x0, 0) });
        else if (deps.taesdPreview) req.onPreview(await deps.taesdPreview(x0));
      }
    }
    x = await loop.sample();
  } finally {
    noise?.close();
    await loop.close();
  }
  throwIfAborted(req.signal);
  return { samples: { dims: [...dims], data: x }, kind: 'image' };
}

/**
 * diffusers' masked latent blending (StableDiffusionXLInpaintPipeline, 4-channel UNet): after step i the sample keeps
 * its values where the mask is 1 and takes the image latents elsewhere, noised to the next timestep (as they are
 * after the last step). `mask` is [B, 1, h, w], binary; the blend selects exactly, as (1 - m) * a + m * b does.
 */
function inpaintBlend(
  mask: Tensor,
  image: Float32Array,
  noise: Float32Array,
  scheduler: {
    readonly timesteps: ArrayLike<number>;
    addNoise(o: Float32Array, n: Float32Array, i: number): Float32Array;
  },
  channels: number,
): (i: number) => (x: Float32Array) => void {
  const plane = mask.dims[2]! * mask.dims[3]!;
  return (i) => (x) => {
    const proper = i + 1 < scheduler.timesteps.length ? scheduler.addNoise(image, noise, i + 1) : image;
    for (let j = 0; j < x.length; j++) {
      const b = Math.floor(j / (channels * plane));
      if (mask.data[b * plane + (j % plane)] === 0) x[j] = proper[j] as number;
    }
  };
}
