import type { TorchGenerator } from '../torch-rng.ts';
import type { StepBuffers, StepOutput } from './schedule-math.ts';

/** One sampler run: stateful (multistep solvers keep past outputs); step indices are absolute in `timesteps`. */
export interface Scheduler {
  /** timestep fed to the UNet at each step */
  readonly timesteps: readonly number[];
  /** per-step sigmas plus the final one (empty for DDIM) */
  readonly sigmas: readonly number[];
  readonly initNoiseSigma: number;
  /** The UNet's input for this step, written into `out` when given (a denoising loop reuses one buffer). */
  scaleModelInput(sample: Float32Array, stepIndex: number, out?: Float32Array): Float32Array;
  /** `out`: buffers the step may fill instead of allocating; schedulers that keep past outputs ignore it. */
  step(
    modelOutput: Float32Array,
    stepIndex: number,
    sample: Float32Array,
    generator: TorchGenerator,
    out?: StepBuffers,
  ): StepOutput;
  /** Noise an image latent to the level of `stepIndex` (img2img). */
  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array;
}
