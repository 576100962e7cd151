import { alphasCumprod, f, spacedTimesteps } from './schedule-math.ts';
import type { Scheduler } from './scheduler.ts';
import type { SchedulerConfig } from './scheduler-config.ts';
import { coefficients, type StepCoefficients } from './step-coefficients.ts';

// diffusers' DDIMScheduler with eta 0, clip_sample false, set_alpha_to_one false (SDXL's settings).

export class DdimScheduler implements Scheduler {
  readonly timesteps: number[];
  readonly sigmas: number[] = [];
  readonly initNoiseSigma = 1;
  private readonly ac: Float32Array;
  private readonly finalAlphaCumprod: number;
  private readonly stepRatio: number;

  constructor(
    private readonly config: SchedulerConfig,
    steps: number,
  ) {
    if (steps > config.num_train_timesteps) {
      throw new Error(`ddim scheduler: ${steps} steps exceed num_train_timesteps ${config.num_train_timesteps}`);
    }
    this.ac = alphasCumprod(config);
    this.finalAlphaCumprod = this.ac[0]!;
    this.timesteps = spacedTimesteps(config, steps).map((t) => Math.round(t));
    this.stepRatio = Math.floor(config.num_train_timesteps / steps);
  }

  inputDivisor(): number {
    return 1;
  }

  coefficients(stepIndex: number): StepCoefficients {
    const t = this.timesteps[stepIndex]!;
    const prevT = t - this.stepRatio;
    const aT = this.ac[t]!;
    const aPrev = prevT >= 0 ? this.ac[prevT]! : this.finalAlphaCumprod;
    const sqrtA = f(Math.sqrt(aT));
    const sqrtB = f(Math.sqrt(f(1 - aT)));
    const dir = f(Math.sqrt(f(1 - aPrev)));
    const toPrev = f(Math.sqrt(aPrev));
    // prev = sqrt(a_prev) * x0 + sqrt(1 - a_prev) * eps, eps being m (epsilon) or sqrt(a) * m + sqrt(1 - a) * x (v)
    if (this.config.prediction_type === 'epsilon')
      return coefficients({ predX: 1, predM: -sqrtB, predDiv: sqrtA, prevX: 0, prevPred: toPrev, prevM: dir });
    return coefficients({
      predX: sqrtA,
      predM: -sqrtB,
      prevX: f(dir * sqrtB),
      prevPred: toPrev,
      prevM: f(dir * sqrtA),
    });
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    const a = this.ac[this.timesteps[stepIndex]!]!;
    const sa = f(Math.sqrt(a));
    const sb = f(Math.sqrt(f(1 - a)));
    return original.map((x, i) => f(f(sa * x) + f(sb * noise[i]!)));
  }
}
