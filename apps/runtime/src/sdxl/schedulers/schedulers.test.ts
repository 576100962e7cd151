import type { SchedulerName } from '@sdflow/nodes/backend.ts';
import { describe, expect, it } from 'vitest';
import { readReferenceJson, readReferenceTensors, relativeError } from '../testing/references.ts';
import { schedulerTrace } from '../testing/scheduler-trace.ts';
import { createScheduler, firstStepForStrength } from './create-scheduler.ts';
import { parseSchedulerConfig } from './scheduler-config.ts';

interface CaseRef {
  num_inference_steps: number;
  config: Record<string, unknown>;
  timesteps: { values: number[] };
  sigmas?: { values: number[] };
  init_noise_sigma: number;
}
const cases = readReferenceJson<Record<string, CaseRef>>('schedulers.json');
const traces = readReferenceTensors('schedulers.safetensors');
const names: Record<string, SchedulerName> = {
  euler_50: 'euler',
  euler_30: 'euler',
  euler_4: 'euler',
  dpmpp_2m_karras_30: 'dpmpp_2m_karras',
  euler_ancestral_30: 'euler_ancestral',
  ddim_30: 'ddim',
};

function maxRelative(ours: readonly number[], ref: readonly number[]): number {
  expect(ours.length).toBe(ref.length);
  return Math.max(0, ...ours.map((v, i) => Math.abs(v - ref[i]!) / Math.max(Math.abs(ref[i]!), 1e-12)));
}

describe('schedulers', () => {
  for (const [key, ref] of Object.entries(cases)) {
    const name = names[key]!;
    const make = () => createScheduler(name, parseSchedulerConfig(ref.config, key), ref.num_inference_steps);

    it(`${key}: timesteps, sigmas and init_noise_sigma within 1e-6`, () => {
      const s = make();
      expect(maxRelative(s.timesteps, ref.timesteps.values)).toBeLessThan(1e-6);
      if (ref.sigmas) expect(maxRelative(s.sigmas, ref.sigmas.values)).toBeLessThan(1e-6);
      expect(Math.abs(s.initNoiseSigma - ref.init_noise_sigma) / ref.init_noise_sigma).toBeLessThan(1e-6);
    });

    // diffusers computes in float32 tensors; the coefficients, rounded as the device's step graph rounds them, give
    // its trace with the same noise draws
    it(`${key}: step trace with the stand-in model (1e-6 relative)`, () => {
      const s = make();
      const n = traces.get('trace_x0')!.data.length;
      const trace = schedulerTrace(s, traces.get('trace_x0')!.data, traces.get('trace_c')!.data);
      const refIn = traces.get(`${key}.x_in`)!.data;
      const refX = traces.get(`${key}.x`)!.data;
      const worst = (ours: Float32Array[], ref: Float32Array) =>
        Math.max(...ours.map((v, i) => relativeError(v, ref.subarray(i * n, (i + 1) * n))));
      expect(worst(trace.xIn, refIn)).toBeLessThan(1e-6);
      expect(worst(trace.x, refX)).toBeLessThan(1e-6);
    });
  }

  it('img2img strength starts at diffusers get_timesteps index', () => {
    expect(firstStepForStrength(30, 1)).toBe(0);
    expect(firstStepForStrength(30, 0.5)).toBe(15);
    expect(firstStepForStrength(4, 0.3)).toBe(3);
    expect(firstStepForStrength(10, 0.75)).toBe(3);
    expect(() => firstStepForStrength(10, 0)).toThrow(/strength/);
  });

  it('one step of every spacing samples at a real timestep (linspace: np.linspace(0, 999, 1) = [0])', () => {
    for (const spacing of ['linspace', 'leading', 'trailing'] as const)
      for (const name of ['euler', 'euler_ancestral', 'dpmpp_2m_karras', 'ddim'] as const) {
        const s = createScheduler(name, parseSchedulerConfig({ timestep_spacing: spacing, steps_offset: 1 }, 'x'), 1);
        expect(s.timesteps.every(Number.isFinite), `${name} ${spacing}`).toBe(true);
        expect(Number.isFinite(s.initNoiseSigma), `${name} ${spacing}`).toBe(true);
      }
    expect(Array.from(createScheduler('euler', parseSchedulerConfig({}, 'x'), 1).timesteps)).toEqual([0]);
  });

  it('reports the file in config errors', () => {
    expect(() => parseSchedulerConfig({ beta_schedule: 'cosine' }, 'x/scheduler_config.json')).toThrow(
      /x\/scheduler_config.json: beta_schedule/,
    );
  });
});
