import type { Scheduler } from '../schedulers/scheduler.ts';
import { applyStep, modelInput } from '../schedulers/step-coefficients.ts';
import { TorchGenerator } from '../torch-rng.ts';

// Test helper: a scheduler's step trace with the references' stand-in model, eps = 0.5 * x_in + 0.5 * c, from
// x0 * init_noise_sigma, with noise from torch.Generator('cpu').manual_seed(0) as the reference scripts pass it.

export interface SchedulerTrace {
  /** the UNet input at each step */
  readonly xIn: Float32Array[];
  /** the sample after each step */
  readonly x: Float32Array[];
}

export function schedulerTrace(s: Scheduler, x0: Float32Array, c: Float32Array): SchedulerTrace {
  const n = x0.length;
  const generator = new TorchGenerator(0);
  let x: Float32Array = x0.map((v) => Math.fround(v * s.initNoiseSigma));
  let last = new Float32Array(n);
  const trace: SchedulerTrace = { xIn: [], x: [] };
  for (let i = 0; i < s.timesteps.length; i++) {
    const xIn = new Float32Array(n);
    modelInput(x, s.inputDivisor(i), xIn);
    const m = xIn.map((v, j) => Math.fround(Math.fround(0.5 * v) + Math.fround(0.5 * c[j]!)));
    const k = s.coefficients(i, i);
    const noise = k.prevNoise !== 0 ? generator.randn([n]) : undefined;
    const prev = new Float32Array(n);
    const pred = new Float32Array(n);
    applyStep(k, { m, x, last, noise }, prev, pred);
    x = prev;
    last = pred;
    trace.xIn.push(xIn);
    trace.x.push(x);
  }
  return trace;
}
