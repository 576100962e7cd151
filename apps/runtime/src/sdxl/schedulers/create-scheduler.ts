import type { SchedulerName } from '@sdflow/nodes/backend.ts';
import { DdimScheduler } from './ddim.ts';
import { DpmSolverMultistepScheduler } from './dpmpp-2m.ts';
import { EulerScheduler } from './euler.ts';
import type { Scheduler } from './scheduler.ts';
import type { SchedulerConfig } from './scheduler-config.ts';

/** A scheduler of the named kind built from the model's scheduler_config.json (as `Class.from_config(config)`). */
export function createScheduler(name: SchedulerName, config: SchedulerConfig, steps: number): Scheduler {
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`scheduler ${name}: steps must be a positive integer, got ${steps}`);
  switch (name) {
    case 'euler':
      return new EulerScheduler({ ...config, use_karras_sigmas: false }, steps);
    case 'euler_ancestral':
      return new EulerScheduler({ ...config, use_karras_sigmas: false }, steps, true);
    case 'dpmpp_2m_karras':
      return new DpmSolverMultistepScheduler({ ...config, use_karras_sigmas: true }, steps);
    case 'ddim':
      return new DdimScheduler(config, steps);
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
