import { alphasCumprod, f } from './schedule-math.ts';
import type { Scheduler } from './scheduler.ts';
import type { SchedulerConfig } from './scheduler-config.ts';
import { coefficients, type StepCoefficients } from './step-coefficients.ts';

// diffusers' LCMScheduler (epsilon or v_prediction, no thresholding or clipping, as from SDXL's config): each step
// takes the consistency model's boundary-condition estimate denoised = c_out * x0 + c_skip * x, then noises it
// to the next timestep with fresh generator noise (the last step returns it as it is).

export class LcmScheduler implements Scheduler {
  readonly timesteps: number[];
  readonly sigmas: number[] = [];
  readonly initNoiseSigma = 1;
  private readonly ac: Float32Array;

  constructor(
    private readonly config: SchedulerConfig,
    steps: number,
  ) {
    const T = config.num_train_timesteps;
    const original = config.original_inference_steps;
    if (original > T) throw new Error(`lcm scheduler: original_inference_steps ${original} exceeds ${T}`);
    if (steps > original) {
      throw new Error(`lcm scheduler: ${steps} steps exceed original_inference_steps ${original}`);
    }
    this.ac = alphasCumprod(config);
    // the distillation schedule k - 1, 2k - 1, .. (k = T // original), reversed, sampled at floor(i * len / steps)
    const k = Math.floor(T / original);
    const origin = Array.from({ length: original }, (_, i) => (original - i) * k - 1);
    const stride = origin.length / steps;
    this.timesteps = Array.from({ length: steps }, (_, i) => origin[Math.floor(i * stride)]!);
  }

  inputDivisor(): number {
    return 1;
  }

  coefficients(stepIndex: number): StepCoefficients {
    const t = this.timesteps[stepIndex]!;
    const final = stepIndex === this.timesteps.length - 1;
    const aT = this.ac[t]!;
    const sqrtA = f(Math.sqrt(aT));
    const sqrtB = f(Math.sqrt(f(1 - aT)));
    // get_scalings_for_boundary_condition_discrete, sigma_data 0.5, in float32 as torch computes it
    const scaled = f(t * this.config.timestep_scaling);
    const denom = f(f(scaled * scaled) + 0.25);
    const cSkip = f(0.25 / denom);
    const cOut = f(scaled / f(Math.sqrt(denom)));
    const pred =
      this.config.prediction_type === 'epsilon'
        ? { predX: 1, predM: -sqrtB, predDiv: sqrtA }
        : { predX: sqrtA, predM: -sqrtB };
    if (final) return coefficients({ ...pred, prevX: cSkip, prevPred: cOut });
    const aPrev = this.ac[this.timesteps[stepIndex + 1]!]!;
    const toPrev = f(Math.sqrt(aPrev));
    return coefficients({
      ...pred,
      prevX: f(toPrev * cSkip),
      prevPred: f(toPrev * cOut),
      prevNoise: f(Math.sqrt(f(1 - aPrev))),
    });
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    const a = this.ac[this.timesteps[stepIndex]!]!;
    const sa = f(Math.sqrt(a));
    const sb = f(Math.sqrt(f(1 - a)));
    return original.map((x, i) => f(f(sa * x) + f(sb * noise[i]!)));
  }
}
