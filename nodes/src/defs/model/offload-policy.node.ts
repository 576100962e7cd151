import { z } from 'zod';
import { defineNode } from '../../define.ts';

export const offloadPolicyDef = defineNode({
  type: 'offloadPolicy',
  version: 1,
  title: 'Offload Policy',
  category: 'model',
  description:
    'Trades speed for memory: "model" keeps one component resident at a time (diffusers\' enable_model_cpu_offload), "sequential" also keeps the weights in CPU memory and streams them to the GPU layer by layer on every step (enable_sequential_cpu_offload: least memory, slowest).',
  params: z.object({
    mode: z.enum(['none', 'model', 'sequential']).default('model').meta({
      widget: 'select',
      description:
        'none: everything resident; model: one component at a time; sequential: weights stay in CPU memory, streamed to the GPU layer by layer.',
    }),
    budgetMiB: z
      .number()
      .int()
      .min(0)
      .max(1_048_576)
      .default(0)
      .meta({ widget: 'number', step: 256, description: 'GPU memory budget in MiB; 0 = no budget.' }),
  }),
  inputs: {},
  outputs: { policy: { type: 'OFFLOAD' } },
});
