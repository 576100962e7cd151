import type { SchedulerName } from '@sdflow/nodes/backend.ts';
import { DdimScheduler } from './ddim.ts';
import { DpmSolverMultistepScheduler } from './dpmpp-2m.ts';
import { EulerScheduler } from './euler.ts';
import { LcmScheduler } from './lcm.ts';
import type { Scheduler } from './scheduler.ts';
import type { SchedulerConfig } from './scheduler-config.ts';

/** A scheduler of the named kind built from the model's scheduler_config.json (as `Class.from_config(config)`);
 *  the name, not the config's use_*_sigmas flags, sets the sigma spacing. */
export function createScheduler(name: SchedulerName, config: SchedulerConfig, steps: number): Scheduler {
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`scheduler ${name}: steps must be a positive integer, got ${steps}`);
  const plain: SchedulerConfig = { ...config, use_karras_sigmas: false, use_exponential_sigmas: false };
  switch (name) {
    case 'euler':
      return new EulerScheduler(plain, steps);
    case 'euler_karras':
      return new EulerScheduler(plain, steps, false, 'karras');
    case 'euler_exponential':
      return new EulerScheduler(plain, steps, false, 'exponential');
    case 'euler_ancestral':
      return new EulerScheduler(plain, steps, true);
    case 'euler_ancestral_karras':
      return new EulerScheduler(plain, steps, true, 'karras');
    case 'euler_ancestral_exponential':
      return new EulerScheduler(plain, steps, true, 'exponential');
    case 'dpmpp_2m':
      return new DpmSolverMultistepScheduler(plain, steps, { spacing: 'timesteps' });
    case 'dpmpp_2m_karras':
      return new DpmSolverMultistepScheduler(plain, steps, { spacing: 'karras' });
    case 'dpmpp_2m_exponential':
      return new DpmSolverMultistepScheduler(plain, steps, { spacing: 'exponential' });
    case 'dpmpp_2m_sde':
      return new DpmSolverMultistepScheduler(plain, steps, { spacing: 'timesteps', sde: true });
    case 'dpmpp_2m_sde_karras':
      return new DpmSolverMultistepScheduler(plain, steps, { spacing: 'karras', sde: true });
    case 'ddim':
      return new DdimScheduler(config, steps);
    case 'lcm':
      return new LcmScheduler(config, steps);
  }
}

/**
 * First step index for img2img strength (diffusers' get_timesteps): the last `int(steps * strength)` steps run.
 * strength 1 runs every step.
 */
export function firstStepForStrength(steps: number, strength: number): number {
  if (!(strength > 0 && strength <= 1)) throw new Error(`denoise strength must be in (0, 1], got ${strength}`);
  const initTimestep = Math.min(Math.floor(steps * strength), steps);
  return Math.max(steps - initTimestep, 0);
}
