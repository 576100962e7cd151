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

// diffusers' EulerDiscreteScheduler (and, with `ancestral`, EulerAncestralDiscreteScheduler), s_churn = 0;
// both take epsilon or v_prediction (the same x0 formula in each). Karras and exponential sigmas are
// EulerDiscreteScheduler's use_karras_sigmas / use_exponential_sigmas, between the sigmas of the first and last
// spaced timesteps. EulerAncestralDiscreteScheduler has neither option: the ancestral sampler with them steps over
// EulerDiscreteScheduler's schedule (timesteps and sigmas, final sigma included).

export class EulerScheduler implements Scheduler {
  readonly timesteps: number[];
  readonly sigmas: number[];
  readonly initNoiseSigma: number;

  constructor(
    private readonly config: SchedulerConfig,
    steps: number,
    private readonly ancestral = false,
    spacing: SigmaSpacing = 'timesteps',
  ) {
    const ac = alphasCumprod(config);
    const train = trainingSigmas(ac);
    let timesteps = spacedTimesteps(config, steps).map(f);
    let sigmas = timesteps.map((t) => interpSigma(train, t));
    if (spacing !== 'timesteps') {
      const logSigmas = train.map((s) => f(Math.log(s)));
      sigmas = spacedSigmas(spacing, config, sigmas[sigmas.length - 1]!, sigmas[0]!, steps);
      timesteps = sigmas.map((s) => f(sigmaToT(s, logSigmas)));
    }
    const eulerSchedule = !ancestral || spacing !== 'timesteps';
    const last = config.final_sigmas_type === 'sigma_min' && eulerSchedule ? train[0]! : 0;
    this.sigmas = [...sigmas, last].map(f);
    this.timesteps = timesteps;
    const maxSigma = Math.max(...this.sigmas);
    this.initNoiseSigma =
      config.timestep_spacing === 'leading' ? f(Math.sqrt(f(f(maxSigma * maxSigma) + 1))) : maxSigma;
  }

  inputDivisor(stepIndex: number): number {
    const s = this.sigmas[stepIndex]!;
    return f(Math.sqrt(f(f(s * s) + 1)));
  }

  coefficients(stepIndex: number): StepCoefficients {
    const sigma = this.sigmas[stepIndex]!;
    const sigmaNext = this.sigmas[stepIndex + 1]!;
    const s2 = f(f(sigma * sigma) + 1);
    // epsilon: x0 = x - sigma * m; v-prediction: x0 = m * (-sigma / sqrt(sigma^2 + 1)) + x / (sigma^2 + 1)
    const pred =
      this.config.prediction_type === 'epsilon'
        ? { predX: 1, predM: -sigma }
        : { predX: f(1 / s2), predM: f(-sigma / f(Math.sqrt(s2))) };
    // x + (x - x0) / sigma * dt, with dt to sigma_down and sigma_up's fresh noise for the ancestral sampler
    let dt = f(sigmaNext - sigma);
    let up = 0;
    if (this.ancestral) {
      const from2 = f(sigma * sigma);
      const to2 = f(sigmaNext * sigmaNext);
      up = f(Math.sqrt(f(f(to2 * f(from2 - to2)) / from2)));
      dt = f(f(Math.sqrt(f(to2 - f(up * up)))) - sigma);
    }
    const k = f(dt / sigma);
    return coefficients({ ...pred, prevX: 1 + k, prevPred: -k, prevNoise: up });
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    const sigma = this.sigmas[stepIndex]!;
    return original.map((x, i) => f(x + f(noise[i]! * sigma)));
  }
}
