import { alphasCumprod, f, type StepOutput, spacedTimesteps, unscaledInput } from './schedule-math.ts';
import type { Scheduler } from './scheduler.ts';
import type { SchedulerConfig } from './scheduler-config.ts';

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

  scaleModelInput(sample: Float32Array, _stepIndex?: number, out?: Float32Array): Float32Array {
    return unscaledInput(sample, out);
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): StepOutput {
    const t = this.timesteps[stepIndex]!;
    const prevT = t - this.stepRatio;
    const aT = this.ac[t]!;
    const aPrev = prevT >= 0 ? this.ac[prevT]! : this.finalAlphaCumprod;
    const bT = f(1 - aT);
    const sqrtA = f(Math.sqrt(aT));
    const sqrtB = f(Math.sqrt(bT));
    const n = sample.length;
    const pred = new Float32Array(n);
    const eps = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (this.config.prediction_type === 'epsilon') {
        pred[i] = f(f(sample[i]! - f(sqrtB * modelOutput[i]!)) / sqrtA);
        eps[i] = modelOutput[i]!;
      } else {
        pred[i] = f(f(sqrtA * sample[i]!) - f(sqrtB * modelOutput[i]!));
        eps[i] = f(f(sqrtA * modelOutput[i]!) + f(sqrtB * sample[i]!));
      }
    }
    const dirCoef = f(Math.sqrt(f(1 - aPrev)));
    const sqrtAPrev = f(Math.sqrt(aPrev));
    const prev = new Float32Array(n);
    for (let i = 0; i < n; i++) prev[i] = f(f(sqrtAPrev * pred[i]!) + f(dirCoef * eps[i]!));
    return { prevSample: prev, predOriginalSample: pred };
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    const a = this.ac[this.timesteps[stepIndex]!]!;
    const sa = f(Math.sqrt(a));
    const sb = f(Math.sqrt(f(1 - a)));
    return original.map((x, i) => f(f(sa * x) + f(sb * noise[i]!)));
  }
}
