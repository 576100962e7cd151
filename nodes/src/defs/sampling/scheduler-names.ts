// The values of UNet Denoise's `scheduler` param: a step rule and its sigma spacing in one name, diffusers' terms.
// Names without a suffix space the steps as the model's scheduler_config.json says; `_karras` and `_exponential`
// use diffusers' use_karras_sigmas / use_exponential_sigmas. Stable API: values are only ever added.
export const SCHEDULER_NAMES = [
  'euler',
  'euler_ancestral',
  'dpmpp_2m_karras',
  'ddim',
  'euler_karras',
  'euler_exponential',
  'euler_ancestral_karras',
  'euler_ancestral_exponential',
  'dpmpp_2m',
  'dpmpp_2m_exponential',
  'dpmpp_2m_sde',
  'dpmpp_2m_sde_karras',
  'lcm',
] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];
