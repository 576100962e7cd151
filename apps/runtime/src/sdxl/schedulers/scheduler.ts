import type { StepCoefficients } from './step-coefficients.ts';

/** One sampler run's schedule; step indices are absolute in `timesteps`. */
export interface Scheduler {
  /** timestep fed to the UNet at each step */
  readonly timesteps: readonly number[];
  /** per-step sigmas plus the final one (empty for DDIM) */
  readonly sigmas: readonly number[];
  readonly initNoiseSigma: number;
  /** What the UNet's input is divided by at this step (1 where the scheduler does not scale it). */
  inputDivisor(stepIndex: number): number;
  /** One step as coefficients (float32 values), `taken` steps into this run (multistep solvers start at first
   *  order); a step with prevNoise set takes the next generator.randn of the sample's size, as diffusers draws it. */
  coefficients(stepIndex: number, taken: number): StepCoefficients;
  /** Noise an image latent to the level of `stepIndex` (img2img). */
  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array;
}
