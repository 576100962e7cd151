import { z } from 'zod';

/** Per model component: session creations and runs (ONNX Runtime calls) with their wall times. It crosses the
 *  engine's worker boundary (`storeStats`) and is persisted in `sdflow bench` reports. */
export const ComponentTiming = z.object({
  creates: z.number(),
  createMs: z.number(),
  runs: z.number(),
  runMs: z.number(),
});
export type ComponentTiming = z.infer<typeof ComponentTiming>;
