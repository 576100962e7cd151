import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../backend/testing/seeded-random.ts';
import { applyGuidance } from '../../sdxl/conditioning.ts';
import { createScheduler } from '../../sdxl/schedulers/create-scheduler.ts';
import { parseSchedulerConfig } from '../../sdxl/schedulers/scheduler-config.ts';
import { applyStep, modelInput, stepVector } from '../../sdxl/schedulers/step-coefficients.ts';
import { createSession } from '../session.ts';
import { buildSchedulerStep } from './scheduler-step.ts';

const dims = [2, 4, 3, 5];
const n = dims.reduce((a, b) => a * b, 1);

function randomArray(seed: number, length: number, scale: number): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length }, () => (r.next() * 2 - 1) * scale);
}

// the graph the device runs between UNet calls against the host's arithmetic: the same float32 bits
describe('scheduler step graph (CPU)', () => {
  const config = parseSchedulerConfig({}, 'scheduler_config.json');
  const cases = [
    { name: 'euler', step: 3, taken: 3 },
    { name: 'euler_ancestral', step: 7, taken: 2 },
    { name: 'dpmpp_2m_karras', step: 5, taken: 4 },
    { name: 'ddim', step: 9, taken: 0 },
  ] as const;
  for (const guided of [true, false])
    for (const c of cases)
      it(`${c.name} step ${c.step}${guided ? ' with guidance' : ''} matches the host step bit for bit`, async () => {
        const s = createScheduler(c.name, config, 20);
        const k = s.coefficients(c.step, c.taken);
        const out = randomArray(1, guided ? 2 * n : n, 3);
        const x = randomArray(2, n, 10);
        const last = randomArray(3, n, 2);
        const noise = randomArray(4, n, 1);
        const nextDiv = s.inputDivisor(c.step + 1);
        const session = await createSession(buildSchedulerStep({ guided }), { device: 'cpu' });
        const got = await session.run({
          model_output: { dims: [guided ? 2 * dims[0]! : dims[0]!, ...dims.slice(1)], data: out },
          sample: { dims, data: x },
          last_pred: { dims, data: last },
          noise: { dims, data: noise },
          coefficients: { dims: [10], data: stepVector(k, 7.5, nextDiv) },
        });
        await session.release();
        const m = guided ? applyGuidance(out, 7.5) : out;
        const prev = new Float32Array(n);
        const pred = new Float32Array(n);
        applyStep(k, { m, x, last, noise }, prev, pred);
        const input = new Float32Array(guided ? 2 * n : n);
        modelInput(prev, nextDiv, input);
        expect(got.prev_sample?.dims).toEqual(dims);
        expect(got.prev_sample?.data).toEqual(prev);
        expect(got.pred_original_sample?.data).toEqual(pred);
        expect(got.next_model_input?.data).toEqual(input);
        // every term is exercised somewhere: the ancestral noise, the second order's last x0
        if (c.name === 'euler_ancestral') expect(k.prevNoise).toBeGreaterThan(0);
        if (c.name === 'dpmpp_2m_karras') expect(k.prevLast).not.toBe(0);
      });
});
