import { describe, expect, it } from 'vitest';
import { mapSampler } from './samplers.ts';

// ComfyUI's sampler_name x scheduler pairs onto UNet Denoise's scheduler values.

describe('mapSampler', () => {
  const exact: [string, string, string][] = [
    ['euler', 'normal', 'euler'],
    ['euler', 'karras', 'euler_karras'],
    ['euler', 'exponential', 'euler_exponential'],
    ['euler_ancestral', 'normal', 'euler_ancestral'],
    ['euler_ancestral', 'karras', 'euler_ancestral_karras'],
    ['euler_ancestral', 'exponential', 'euler_ancestral_exponential'],
    ['dpmpp_2m', 'normal', 'dpmpp_2m'],
    ['dpmpp_2m', 'karras', 'dpmpp_2m_karras'],
    ['dpmpp_2m', 'exponential', 'dpmpp_2m_exponential'],
    ['dpmpp_2m_sde', 'normal', 'dpmpp_2m_sde'],
    ['dpmpp_2m_sde', 'karras', 'dpmpp_2m_sde_karras'],
    ['dpmpp_2m_sde_gpu', 'karras', 'dpmpp_2m_sde_karras'],
    ['lcm', 'normal', 'lcm'],
    ['ddim', 'ddim_uniform', 'ddim'],
  ];
  for (const [sampler, scheduler, value] of exact) {
    it(`${sampler} + ${scheduler} -> ${value}`, () => {
      expect(mapSampler(sampler, scheduler)).toMatchObject({ scheduler: value, exact: true });
    });
  }

  it('takes the nearest value, flagged approximate, where sdflow has no such pairing', () => {
    expect(mapSampler('lcm', 'sgm_uniform')).toMatchObject({ scheduler: 'lcm', exact: false });
    expect(mapSampler('dpmpp_2m_sde', 'exponential')).toMatchObject({ scheduler: 'dpmpp_2m_sde', exact: false });
    expect(mapSampler('uni_pc', 'normal')).toMatchObject({ scheduler: 'euler', exact: false });
    expect(mapSampler('dpmpp_sde', 'karras')).toMatchObject({ scheduler: 'euler', exact: false });
  });
});
