import type { SchedulerConfig } from './scheduler-config.ts';

// Training noise schedule as diffusers computes it in float32 torch tensors (emulated with Math.fround).

export const f = Math.fround;

/** torch.linspace(start, end, steps, dtype=float32) on the CPU (two-sided, float32 arithmetic). */
function linspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < halfway ? f(s + f(step * i)) : f(e - f(step * (steps - i - 1)));
  }
  return out;
}

/** alphas_cumprod (float32; torch's cumprod accumulates in double). */
export function alphasCumprod(config: SchedulerConfig): Float32Array {
  const n = config.num_train_timesteps;
  let betas: Float32Array;
  if (config.trained_betas) {
    betas = Float32Array.from(config.trained_betas);
  } else if (config.beta_schedule === 'scaled_linear') {
    betas = linspaceF32(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n).map((b) => f(b * b));
  } else {
    betas = linspaceF32(config.beta_start, config.beta_end, n);
  }
  const out = new Float32Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= f(1 - betas[i]!);
    out[i] = acc;
  }
  return out;
}

/** ((1 - ac) / ac) ** 0.5 per training timestep, float32. */
export function trainingSigmas(ac: Float32Array): Float32Array {
  return ac.map((a) => f(Math.sqrt(f(f(1 - a) / a))));
}

/** np.arange(0, n) * ratio, rounded, reversed, + offset: diffusers' "leading" spacing. */
export function spacedTimesteps(
  config: SchedulerConfig,
  steps: number,
  lastTimestep = config.num_train_timesteps,
): number[] {
  const T = config.num_train_timesteps;
  const out: number[] = [];
  if (config.timestep_spacing === 'leading') {
    const ratio = Math.floor(T / steps);
    for (let i = steps - 1; i >= 0; i--) out.push(Math.round(i * ratio) + config.steps_offset);
  } else if (config.timestep_spacing === 'trailing') {
    const ratio = T / steps;
    for (let t = lastTimestep; t > 0; t -= ratio) out.push(roundHalfEven(t) - 1);
  } else {
    // np.linspace(0, T - 1, 1) is [0]: one step samples at timestep 0 (no 0 / 0)
    for (let i = steps - 1; i >= 0; i--) out.push(steps === 1 ? 0 : f((i * (T - 1)) / (steps - 1)));
  }
  return out;
}

/** numpy's round (half to even). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** np.interp of integer-indexed sigmas at (possibly fractional) timesteps. */
export function interpSigma(sigmas: Float32Array, t: number): number {
  const lo = Math.max(0, Math.min(sigmas.length - 1, Math.floor(t)));
  const hi = Math.min(sigmas.length - 1, lo + 1);
  const w = t - lo;
  return w === 0 ? sigmas[lo]! : sigmas[lo]! + (sigmas[hi]! - sigmas[lo]!) * w;
}

/** Karras et al. (2022) sigmas, rho = 7, in double as diffusers computes them with numpy. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, steps: number): number[] {
  const rho = 7;
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const ramp = steps === 1 ? 0 : i / (steps - 1);
    out.push((maxInv + ramp * (minInv - maxInv)) ** rho);
  }
  return out;
}

/** diffusers' _sigma_to_t: fractional timestep of a sigma by log-linear interpolation (logSigmas in float32). */
export function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  // index of the last log_sigma <= log_sigma (cumsum(dists >= 0).argmax)
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i]! >= 0) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const lo = logSigmas[low]!;
  const hi = logSigmas[low + 1]!;
  const w = Math.min(1, Math.max(0, (lo - logSigma) / (lo - hi)));
  return (1 - w) * low + w * (low + 1);
}

/** np.linspace(start, stop, n) in double: i * step + start, the last value exactly stop. */
function linspace(start: number, stop: number, n: number): number[] {
  if (n === 1) return [start];
  const step = (stop - start) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? stop : i * step + start));
}

/** diffusers' _convert_to_exponential: exp(linspace(log sigmaMax, log sigmaMin, steps)), in double. */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, steps: number): number[] {
  return linspace(Math.log(sigmaMax), Math.log(sigmaMin), steps).map(Math.exp);
}

/** How a scheduler spaces its sigmas: as its timesteps say, or diffusers' use_karras / use_exponential_sigmas. */
export type SigmaSpacing = 'timesteps' | 'karras' | 'exponential';

/** Karras or exponential sigmas between sigmaMin and sigmaMax (the config's sigma_min/sigma_max win). */
export function spacedSigmas(
  spacing: Exclude<SigmaSpacing, 'timesteps'>,
  config: SchedulerConfig,
  sigmaMin: number,
  sigmaMax: number,
  steps: number,
): number[] {
  const lo = config.sigma_min ?? sigmaMin;
  const hi = config.sigma_max ?? sigmaMax;
  return spacing === 'karras' ? karrasSigmas(lo, hi, steps) : exponentialSigmas(lo, hi, steps);
}
