import type { Tensor } from '@sdflow/nodes/tensor.ts';
import { applyGuidance, type UnetConditioningBatch } from '../sdxl/conditioning.ts';
import { applyStep, modelInput, type StepCoefficients } from '../sdxl/schedulers/step-coefficients.ts';

// The state of a denoising loop between steps, behind one interface: host arrays here, device tensors in
// device-loop.ts (no copies between the UNet and the scheduler step). denoise.ts drives either.

export interface UnetInputs {
  sample: Tensor;
  timestep: Tensor;
  encoder_hidden_states: Tensor;
  text_embeds: Tensor;
  time_ids: Tensor;
}

export interface LoopStart {
  /** the starting latents [B, C, h, w] (not written to) */
  readonly x: Tensor;
  /** the first UNet input is x divided by this (the scheduler's input scale) */
  readonly divisor: number;
  readonly cond: UnetConditioningBatch;
  /** Steps will carry `blend` (inpainting): the loop must keep its sample on the host. */
  readonly blends?: boolean;
}

export interface LoopStep {
  readonly timestep: number;
  readonly coefficients: StepCoefficients;
  /** CFG scale (used where cond.cfg) */
  readonly guidance: number;
  /** the next UNet input is the new sample divided by this */
  readonly nextDivisor: number;
  /** fresh noise for an ancestral step (coefficients.prevNoise != 0) */
  readonly noise?: Float32Array;
  /** Rewrites the new sample in place before the next UNet input is made from it (inpainting's latent blending). */
  readonly blend?: (x: Float32Array) => void;
}

export interface DenoiseLoop {
  /** The UNet on the current input, guidance, one scheduler step, and the next input. */
  step(s: LoopStep): Promise<void>;
  /** The last step's x0 estimate (previews). */
  pred(): Promise<Float32Array>;
  /** The current sample. */
  sample(): Promise<Float32Array>;
  /** Frees what the loop holds (device buffers). */
  close(): Promise<void>;
}

/** The loop on host arrays around a UNet call that takes and returns host tensors. */
export function hostLoop(start: LoopStart, runUnet: (inputs: UnetInputs) => Promise<Tensor>): DenoiseLoop {
  const { cond } = start;
  const n = start.x.data.length;
  const [batch, ...rest] = start.x.dims;
  // buffers reused across steps (fresh megabyte arrays cost more in page faults than the arithmetic); the pairs
  // alternate so a step never writes what it reads
  const input = new Float32Array(cond.cfg ? 2 * n : n);
  const guided = cond.cfg ? new Float32Array(n) : undefined;
  const samples = [new Float32Array(n), new Float32Array(n)];
  const preds = [new Float32Array(n), new Float32Array(n)];
  let x = start.x.data;
  let last = preds[1]!;
  let steps = 0;
  modelInput(x, start.divisor, input);
  return {
    async step(s) {
      const out = await runUnet({
        sample: { dims: [cond.cfg ? 2 * batch! : batch!, ...rest], data: input },
        timestep: { dims: [1], data: new Float32Array([s.timestep]) },
        encoder_hidden_states: cond.encoderHiddenStates,
        text_embeds: cond.textEmbeds,
        time_ids: cond.timeIds,
      });
      const m = guided ? applyGuidance(out.data, s.guidance, guided) : out.data;
      const prev = samples[steps % 2]!;
      const pred = preds[steps % 2]!;
      applyStep(s.coefficients, { m, x, last, noise: s.noise }, prev, pred);
      s.blend?.(prev);
      x = prev;
      last = pred;
      steps++;
      modelInput(x, s.nextDivisor, input);
    },
    pred: async () => last,
    sample: async () => x,
    close: async () => undefined,
  };
}
