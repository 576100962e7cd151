// Dev check (not a test): time and peak host memory of building one full-size SDXL component from synthetic
// weights (the sdxl-base configs), optionally followed by ONNX Runtime session creation on the CPU EP.
// Usage: npx tsx apps/runtime/src/onnx/build-bench.ts [unet|text_encoder|text_encoder_2|vae_decoder]
//        [fp16|fp32] [cpu|cuda|webgpu (build target)] [--session] [--safetensors <component dir>]
import { readFileSync } from 'node:fs';

import { SyntheticSource } from '../models/synthetic-weights.ts';
import { SafetensorsSource, type WeightSource } from '../models/weight-source.ts';
import { buildClipText } from './builders/clip-text.ts';
import { buildUnet } from './builders/unet.ts';
import { buildVaeDecoder } from './builders/vae-decoder.ts';
import type { BuiltModel } from './built-model.ts';
import type { Precision, Target } from './graph-builder.ts';
import { createSession } from './session.ts';

const args = process.argv.slice(2);
const positional = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--safetensors');
const [part = 'unet', precision = 'fp16', target = 'cpu'] = positional as [string?, Precision?, Target?];
const stIdx = args.indexOf('--safetensors');
const configDir = new URL('../models/configs/sdxl-base/', import.meta.url);
const folder = part === 'vae_decoder' ? 'vae' : part;
const config = JSON.parse(readFileSync(new URL(`${folder}/config.json`, configDir), 'utf8')) as unknown;
const weights: WeightSource =
  stIdx >= 0 ? SafetensorsSource.open(args[stIdx + 1] as string) : new SyntheticSource({ seed: 0 });
const opts = { precision, target };

const gib = (b: number) => (b / 2 ** 30).toFixed(2);
const rss = () => gib(process.resourceUsage().maxRSS * 1024);

let t = performance.now();
const built: BuiltModel =
  part === 'unet'
    ? buildUnet(config, weights, opts)
    : part === 'vae_decoder'
      ? buildVaeDecoder(config, weights, opts)
      : buildClipText(config, weights, { ...opts, withProjection: part === 'text_encoder_2' });
const buildS = (performance.now() - t) / 1000;
const bytes = built.externalData.reduce((a, f) => a + f.data.length, 0);
console.log(
  `${part} ${precision} (${target} graph): ${gib(bytes)} GiB external data in ${built.externalData.length} chunk(s); ` +
    `build ${buildS.toFixed(1)} s; peak RSS ${rss()} GiB`,
);
if (args.includes('--session')) {
  t = performance.now();
  const s = await createSession(built, { device: 'cpu' });
  console.log(`  CPU session ${((performance.now() - t) / 1000).toFixed(1)} s; peak RSS ${rss()} GiB`);
  await s.release();
}
