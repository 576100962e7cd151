import {
  alphasCumprod,
  f,
  interpSigma,
  karrasSigmas,
  type StepOutput,
  sigmaToT,
  spacedTimesteps,
  trainingSigmas,
  unscaledInput,
} from './schedule-math.ts';
import type { Scheduler } from './scheduler.ts';
import type { SchedulerConfig } from './scheduler-config.ts';

// diffusers' DPMSolverMultistepScheduler: dpmsolver++, solver_order 2, midpoint, lower_order_final.

interface AlphaSigma {
  alpha: number;
  sigma: number;
  lambda: number;
}

function alphaSigma(sigma: number): AlphaSigma {
  const alpha = f(1 / f(Math.sqrt(f(f(sigma * sigma) + 1))));
  const s = f(sigma * alpha);
  // sigma = 0 gives lambda = +inf, which makes the final update return x0 exactly as in torch
  return { alpha, sigma: s, lambda: f(f(Math.log(alpha)) - f(Math.log(s))) };
}

export class DpmSolverMultistepScheduler implements Scheduler {
  readonly timesteps: number[];
  readonly sigmas: number[];
  readonly initNoiseSigma = 1;
  private readonly outputs: (Float32Array | null)[] = [null, null];
  private lowerOrderNums = 0;

  constructor(
    private readonly config: SchedulerConfig,
    steps: number,
    private readonly lowerOrderFinal = true,
  ) {
    const ac = alphasCumprod(config);
    const train = trainingSigmas(ac);
    let sigmas: number[];
    let timesteps: number[];
    if (config.use_karras_sigmas) {
      const logSigmas = train.map((s) => f(Math.log(s)));
      sigmas = karrasSigmas(config.sigma_min ?? train[0]!, config.sigma_max ?? train[train.length - 1]!, steps);
      timesteps = sigmas.map((s) => Math.round(sigmaToT(s, logSigmas)));
    } else {
      timesteps = dpmTimesteps(config, steps);
      sigmas = timesteps.map((t) => interpSigma(train, t));
    }
    const last = config.final_sigmas_type === 'sigma_min' ? train[0]! : 0;
    this.sigmas = [...sigmas, last].map(f);
    this.timesteps = timesteps;
  }

  scaleModelInput(sample: Float32Array, _stepIndex?: number, out?: Float32Array): Float32Array {
    return unscaledInput(sample, out);
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): StepOutput {
    const n = this.timesteps.length;
    const lowerOrderFinal =
      stepIndex === n - 1 && ((this.lowerOrderFinal && n < 15) || this.config.final_sigmas_type === 'zero');
    const s0 = alphaSigma(this.sigmas[stepIndex]!);
    const x0 = new Float32Array(sample.length);
    if (this.config.prediction_type === 'epsilon') {
      for (let i = 0; i < x0.length; i++) x0[i] = f(f(sample[i]! - f(s0.sigma * modelOutput[i]!)) / s0.alpha);
    } else {
      for (let i = 0; i < x0.length; i++) x0[i] = f(f(s0.alpha * sample[i]!) - f(s0.sigma * modelOutput[i]!));
    }
    this.outputs[0] = this.outputs[1]!;
    this.outputs[1] = x0;
    const t = alphaSigma(this.sigmas[stepIndex + 1]!);
    const h = f(t.lambda - s0.lambda);
    const ratio = f(t.sigma / s0.sigma);
    const coef = f(t.alpha * f(f(Math.exp(-h)) - 1));
    const prev = new Float32Array(sample.length);
    if (this.lowerOrderNums < 1 || lowerOrderFinal) {
      for (let i = 0; i < prev.length; i++) prev[i] = f(f(ratio * sample[i]!) - f(coef * x0[i]!));
    } else {
      const s1 = alphaSigma(this.sigmas[stepIndex - 1]!);
      const h0 = f(s0.lambda - s1.lambda);
      const invR0 = f(1 / f(h0 / h));
      const half = f(0.5 * coef);
      const m1 = this.outputs[0]!;
      for (let i = 0; i < prev.length; i++) {
        const d1 = f(invR0 * f(x0[i]! - m1[i]!));
        prev[i] = f(f(f(ratio * sample[i]!) - f(coef * x0[i]!)) - f(half * d1));
      }
    }
    if (this.lowerOrderNums < 2) this.lowerOrderNums++;
    return { prevSample: prev, predOriginalSample: x0 };
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    const { alpha, sigma } = alphaSigma(this.sigmas[stepIndex]!);
    return original.map((x, i) => f(f(alpha * x) + f(sigma * noise[i]!)));
  }
}

function dpmTimesteps(config: SchedulerConfig, steps: number): number[] {
  const T = config.num_train_timesteps;
  if (config.timestep_spacing === 'leading') {
    const ratio = Math.floor(T / (steps + 1));
    const out: number[] = [];
    for (let i = steps; i >= 1; i--) out.push(i * ratio + config.steps_offset);
    return out;
  }
  if (config.timestep_spacing === 'linspace') {
    const out: number[] = [];
    for (let i = steps; i >= 1; i--) out.push(Math.round((i * (T - 1)) / steps));
    return out;
  }
  return spacedTimesteps(config, steps);
}
