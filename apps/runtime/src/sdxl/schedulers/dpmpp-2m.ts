import {
  alphasCumprod,
  f,
  interpSigma,
  type SigmaSpacing,
  sigmaToT,
  spacedSigmas,
  spacedTimesteps,
  trainingSigmas,
} from './schedule-math.ts';
import type { Scheduler } from './scheduler.ts';
import type { SchedulerConfig } from './scheduler-config.ts';
import { coefficients, type StepCoefficients } from './step-coefficients.ts';

// diffusers' DPMSolverMultistepScheduler: dpmsolver++ (or, with `sde`, sde-dpmsolver++), solver_order 2,
// midpoint, lower_order_final.

export interface DpmSolverOptions {
  readonly spacing: SigmaSpacing;
  /** algorithm_type sde-dpmsolver++: every step but a final one to sigma 0 adds generator noise */
  readonly sde?: boolean;
  readonly lowerOrderFinal?: boolean;
}

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

  private readonly lowerOrderFinal: boolean;
  private readonly sde: boolean;

  constructor(
    private readonly config: SchedulerConfig,
    steps: number,
    options: DpmSolverOptions,
  ) {
    this.lowerOrderFinal = options.lowerOrderFinal ?? true;
    this.sde = options.sde ?? false;
    const ac = alphasCumprod(config);
    const train = trainingSigmas(ac);
    let sigmas: number[];
    let timesteps: number[];
    if (options.spacing !== 'timesteps') {
      const logSigmas = train.map((s) => f(Math.log(s)));
      sigmas = spacedSigmas(options.spacing, config, train[0]!, train[train.length - 1]!, steps);
      // Karras timesteps are rounded; exponential ones go to int64 as they are (truncated)
      const toInt = options.spacing === 'karras' ? Math.round : Math.trunc;
      timesteps = sigmas.map((s) => toInt(sigmaToT(s, logSigmas)));
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
    if (this.sde) return this.sdeCoefficients(stepIndex, taken, lowerOrderFinal, pred, s0, t, h);
    const ratio = f(t.sigma / s0.sigma);
    const coef = f(t.alpha * f(f(Math.exp(-h)) - 1));
    if (taken < 1 || lowerOrderFinal) return coefficients({ ...pred, prevX: ratio, prevPred: -coef });
    // second order: - coef/2 * (x0 - last) / r0 more
    const s1 = alphaSigma(this.sigmas[stepIndex - 1]!);
    const d = f(f(0.5 * coef) * f(1 / f(f(s0.lambda - s1.lambda) / h)));
    return coefficients({ ...pred, prevX: ratio, prevPred: f(-coef - d), prevLast: d });
  }

  /** sde-dpmsolver++: x_t = sigma_t / sigma_s * e^-h * x + alpha_t (1 - e^-2h) (D0 + D1 / 2)
   *  + sigma_t sqrt(1 - e^-2h) * noise, D1 = (x0 - last) / r0 at second order. */
  private sdeCoefficients(
    stepIndex: number,
    taken: number,
    lowerOrderFinal: boolean,
    pred: { predX: number; predM: number; predDiv?: number },
    s0: AlphaSigma,
    t: AlphaSigma,
    h: number,
  ): StepCoefficients {
    const e2 = f(1 - f(Math.exp(f(-2 * h))));
    const prevX = f(f(t.sigma / s0.sigma) * f(Math.exp(-h)));
    const a = f(t.alpha * e2);
    const prevNoise = f(t.sigma * f(Math.sqrt(e2)));
    if (taken < 1 || lowerOrderFinal) return coefficients({ ...pred, prevX, prevPred: a, prevNoise });
    const s1 = alphaSigma(this.sigmas[stepIndex - 1]!);
    const d = f(f(0.5 * a) * f(1 / f(f(s0.lambda - s1.lambda) / h)));
    return coefficients({ ...pred, prevX, prevPred: f(a + d), prevLast: -d, prevNoise });
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
