import { z } from 'zod';

/** Per model component: its streamed weights page-locked for the GPU's copies (bytes, time taken), or why not.
 *  It crosses the engine's worker boundary (`storeStats`) and is persisted in `sdflow bench` reports. */
export const PinningReport = z.union([
  z.object({ bytes: z.number(), ms: z.number() }),
  z.object({ failed: z.string() }),
]);
export type PinningReport = z.infer<typeof PinningReport>;
