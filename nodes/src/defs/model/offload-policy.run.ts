import type { Kernel } from '../../define.ts';
import type { offloadPolicyDef } from './offload-policy.node.ts';

export const runOffloadPolicy: Kernel<typeof offloadPolicyDef> = async ({ params }) => ({
  policy: { mode: params.mode, budgetMiB: params.budgetMiB },
});
