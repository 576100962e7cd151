import { f } from './schedule-math.ts';

// Every scheduler step here is linear in the sample x, the (guided) model output m, the previous step's x0
// estimate ("last") and fresh noise. Written as coefficients, one step can run where the tensors already are:
// the device's step graph (onnx/builders/scheduler-step.ts) computes it as applyStep does, op for op.
//   pred = (predX * x + predM * m) / predDiv
//   prev = prevX * x + prevPred * pred + prevM * m + prevLast * last + prevNoise * noise
export interface StepCoefficients {
  readonly predX: number;
  readonly predM: number;
  readonly predDiv: number;
  readonly prevX: number;
  readonly prevPred: number;
  readonly prevM: number;
  readonly prevLast: number;
  readonly prevNoise: number;
}

/** The order of stepVector's entries: the step graph's `coefficients` input. */
export const STEP_VECTOR = [
  'guidance',
  'predX',
  'predM',
  'predDiv',
  'prevX',
  'prevPred',
  'prevM',
  'prevLast',
  'prevNoise',
  'nextDiv',
] as const;

/** The step graph's coefficients: guidance (CFG scale), the step's terms, and the divisor of the next UNet input. */
export function stepVector(c: StepCoefficients, guidance: number, nextDiv: number): Float32Array {
  const all: Record<(typeof STEP_VECTOR)[number], number> = { ...c, guidance, nextDiv };
  return Float32Array.from(STEP_VECTOR, (k) => all[k]);
}

export interface StepArrays {
  /** the guided model output */
  readonly m: Float32Array;
  readonly x: Float32Array;
  /** the previous step's x0 estimate (zeros before the first) */
  readonly last?: Float32Array;
  readonly noise?: Float32Array;
}

/** One step on the host, in float32 with each operation rounded as the step graph rounds it. */
export function applyStep(c: StepCoefficients, a: StepArrays, prev: Float32Array, pred: Float32Array): void {
  const { m, x, last, noise } = a;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const mi = m[i]!;
    const p = f(f(f(c.predX * xi) + f(c.predM * mi)) / c.predDiv);
    pred[i] = p;
    let v = f(f(f(c.prevX * xi) + f(c.prevPred * p)) + f(c.prevM * mi));
    if (last) v = f(v + f(c.prevLast * last[i]!));
    if (noise) v = f(v + f(c.prevNoise * noise[i]!));
    prev[i] = v;
  }
}

/** Fills `into` with x / divisor, twice over for CFG's two halves. */
export function modelInput(x: Float32Array, divisor: number, into: Float32Array): void {
  const n = x.length;
  for (let i = 0; i < n; i++) into[i] = x[i]! / divisor;
  if (into.length > n) into.copyWithin(n, 0, n);
}

/** Coefficients as the float32 values a graph takes (unset terms 0). */
export function coefficients(
  c: Pick<StepCoefficients, 'predX' | 'predM' | 'prevX' | 'prevPred'> & Partial<StepCoefficients>,
): StepCoefficients {
  return {
    predX: f(c.predX),
    predM: f(c.predM),
    predDiv: f(c.predDiv ?? 1),
    prevX: f(c.prevX),
    prevPred: f(c.prevPred),
    prevM: f(c.prevM ?? 0),
    prevLast: f(c.prevLast ?? 0),
    prevNoise: f(c.prevNoise ?? 0),
  };
}
