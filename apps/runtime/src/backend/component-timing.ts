import { z } from 'zod';

/** Per model component: session creations, weight loads (model offload's copies to the device) and runs (ONNX
 *  Runtime calls) with their wall times. It crosses the engine's worker boundary (`storeStats`) and is persisted
 *  in `sdflow bench` reports (whose older files lack the loads). */
export const ComponentTiming = z.object({
  creates: z.number(),
  createMs: z.number(),
  loads: z.number().default(0),
  loadMs: z.number().default(0),
  runs: z.number(),
  runMs: z.number(),
});
export type ComponentTiming = z.infer<typeof ComponentTiming>;
