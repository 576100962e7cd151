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
    if (drawn && drawn.seed === req.seed) generator.randn([drawn.count]);
    x = scheduler.addNoise(req.latent.samples.data, generator.randn(dims), start);
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
  const loop = await deps.startLoop({ x: { dims, data: x }, divisor: scheduler.inputDivisor(start), cond });
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
