import { parseArgs } from 'node:util';
import type { ComponentName, ComponentSource } from '../backend/model-source.ts';
import { sdxlBaseRandomModel } from '../models/configs/sdxl-base/sdxl-base-random.ts';

// `prebuild --component unet [--precision fp16] [--target cuda]`: builds one sdxl-base-random graph into
// SDFLOW_BUILD_CACHE, so benchmark processes load it from disk instead of spending minutes building it.
// Several components build in parallel as separate processes (each build is single-threaded JavaScript).

export function prebuild(argv: readonly string[]): string {
  const { values } = parseArgs({
    args: [...argv],
    options: { component: { type: 'string' }, precision: { type: 'string' }, target: { type: 'string' } },
  });
  if (!process.env.SDFLOW_BUILD_CACHE) throw new Error('prebuild: set SDFLOW_BUILD_CACHE to the cache folder');
  const m = sdxlBaseRandomModel();
  const components: Record<ComponentName, ComponentSource> = {
    text_encoder: m.textEncoder,
    text_encoder_2: m.textEncoder2,
    unet: m.unet,
    vae_decoder: m.vaeDecoder,
    vae_encoder: m.vaeEncoder,
    taesd_decoder: m.taesd!.decoder,
  };
  const c = components[values.component as ComponentName];
  if (!c) throw new Error(`prebuild: --component is one of ${Object.keys(components).join(', ')}`);
  const precision = values.precision === 'fp32' ? 'fp32' : 'fp16';
  const target = values.target === 'cpu' ? 'cpu' : 'cuda';
  const t0 = performance.now();
  c.build({ precision, target });
  return `prebuild: ${c.name} ${precision} ${target} in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
}
