import {
  alphasCumprod,
  f,
  interpSigma,
  karrasSigmas,
  sigmaToT,
  spacedTimesteps,
  trainingSigmas,
} from './schedule-math.ts';
import type { Scheduler } from './scheduler.ts';
import type { SchedulerConfig } from './scheduler-config.ts';
import { coefficients, type StepCoefficients } from './step-coefficients.ts';

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

  inputDivisor(): number {
    return 1;
  }

  coefficients(stepIndex: number, taken: number): StepCoefficients {
    const n = this.timesteps.length;
    const lowerOrderFinal =
      stepIndex === n - 1 && ((this.lowerOrderFinal && n < 15) || this.config.final_sigmas_type === 'zero');
    const s0 = alphaSigma(this.sigmas[stepIndex]!);
    const pred =
      this.config.prediction_type === 'epsilon'
        ? { predX: 1, predM: -s0.sigma, predDiv: s0.alpha }
        : { predX: s0.alpha, predM: -s0.sigma };
    const t = alphaSigma(this.sigmas[stepIndex + 1]!);
    const h = f(t.lambda - s0.lambda);
    const ratio = f(t.sigma / s0.sigma);
    const coef = f(t.alpha * f(f(Math.exp(-h)) - 1));
    if (taken < 1 || lowerOrderFinal) return coefficients({ ...pred, prevX: ratio, prevPred: -coef });
    // second order: - coef/2 * (x0 - last) / r0 more
    const s1 = alphaSigma(this.sigmas[stepIndex - 1]!);
    const d = f(f(0.5 * coef) * f(1 / f(f(s0.lambda - s1.lambda) / h)));
    return coefficients({ ...pred, prevX: ratio, prevPred: f(-coef - d), prevLast: d });
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
