import { unetDenoiseDef } from '../defs/sampling/unet-denoise.node.ts';

// ComfyUI names a sampler (sampler_name: the step rule) and a scheduler (the sigma spacing) separately; UNet
// Denoise names both in one `scheduler` value in diffusers' terms (`dpmpp_2m_karras` = DPM++ 2M with Karras
// sigmas). Without a Karras/exponential suffix, sdflow spaces the steps as the model's scheduler config says
// (diffusers), which is what ComfyUI's "normal" approximates for SDXL.

/** The `scheduler` values UNet Denoise accepts, read from its definition (so new samplers map when they land). */
export const SDFLOW_SCHEDULERS: readonly string[] = unetDenoiseDef.params.shape.scheduler.unwrap().options;

const SUFFIX: Readonly<Record<string, string>> = { karras: '_karras', exponential: '_exponential' };
/** ComfyUI schedulers that space steps as sdflow does without a suffix. */
const PLAIN = new Set(['normal', 'karras', 'exponential']);
/** ComfyUI sampler names whose diffusers counterpart is named differently. */
const ALIAS: Readonly<Record<string, string>> = {
  uni_pc: 'unipc',
  uni_pc_bh2: 'unipc',
  // the same sampler with its noise drawn on the GPU
  dpmpp_2m_sde_gpu: 'dpmpp_2m_sde',
};

export interface SamplerMapping {
  readonly scheduler: string;
  /** Same step rule and sigma spacing family; false when the nearest counterpart was taken. */
  readonly exact: boolean;
  readonly note: string;
}

export function mapSampler(samplerName: string, scheduler: string): SamplerMapping {
  const base = ALIAS[samplerName] ?? samplerName;
  const suffix = SUFFIX[scheduler] ?? '';
  const has = (name: string) => SDFLOW_SCHEDULERS.includes(name);
  const from = `sampler_name "${samplerName}", scheduler "${scheduler}"`;
  if (has(base + suffix)) {
    const exact = PLAIN.has(scheduler) || (base === 'ddim' && scheduler === 'ddim_uniform');
    return {
      scheduler: base + suffix,
      exact,
      note: exact
        ? `${from} -> scheduler "${base + suffix}"`
        : `${from} -> scheduler "${base + suffix}" (approximate: ComfyUI's "${scheduler}" sigma spacing has no counterpart; sdflow spaces steps as the model's scheduler config says)`,
    };
  }
  for (const candidate of [base, `${base}_karras`]) {
    if (has(candidate)) {
      return {
        scheduler: candidate,
        exact: false,
        note: `${from} -> scheduler "${candidate}" (approximate: sdflow has no "${base}" with "${scheduler}" sigmas)`,
      };
    }
  }
  return {
    scheduler: 'euler',
    exact: false,
    note: `${from} -> scheduler "euler" (approximate: sdflow has no counterpart of the "${samplerName}" sampler; it has ${SDFLOW_SCHEDULERS.join(', ')})`,
  };
}
