import { z } from 'zod';

// scheduler_config.json as diffusers writes it; unknown keys are ignored, missing ones take diffusers' defaults.

export const SchedulerConfig = z.object({
  _class_name: z.string().optional(),
  num_train_timesteps: z.number().int().positive().default(1000),
  beta_start: z.number().positive().default(0.0001),
  beta_end: z.number().positive().default(0.02),
  beta_schedule: z.enum(['linear', 'scaled_linear']).default('linear'),
  trained_betas: z.array(z.number()).nullable().default(null),
  prediction_type: z.enum(['epsilon', 'v_prediction']).default('epsilon'),
  timestep_spacing: z.enum(['linspace', 'leading', 'trailing']).default('linspace'),
  steps_offset: z.number().int().nonnegative().default(0),
  interpolation_type: z.enum(['linear']).default('linear'),
  final_sigmas_type: z.enum(['zero', 'sigma_min']).default('zero'),
  sigma_min: z.number().nullable().default(null),
  sigma_max: z.number().nullable().default(null),
  rescale_betas_zero_snr: z.literal(false).default(false),
  timestep_type: z.enum(['discrete']).default('discrete'),
  use_karras_sigmas: z.boolean().nullable().default(false),
  // sdflow's scheduler param picks the sigma spacing; these flags of a model's config are read and not used
  use_exponential_sigmas: z.boolean().nullable().default(false),
  use_beta_sigmas: z.literal(false).nullable().default(false),
  // LCMScheduler's (defaults as diffusers'; SDXL's Euler config has neither)
  original_inference_steps: z.number().int().positive().default(50),
  timestep_scaling: z.number().positive().default(10),
});
export type SchedulerConfig = z.infer<typeof SchedulerConfig>;

/** Parses scheduler_config.json text; `source` names the file in errors. */
export function parseSchedulerConfig(raw: unknown, source: string): SchedulerConfig {
  const result = SchedulerConfig.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`${source}: ${issue?.path.join('.') || 'config'}: ${issue?.message}`);
  }
  return result.data;
}

/** SDXL base's scheduler settings, used when a model folder has no scheduler_config.json. */
export const SDXL_SCHEDULER_CONFIG: SchedulerConfig = SchedulerConfig.parse({
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  steps_offset: 1,
  timestep_spacing: 'leading',
});
