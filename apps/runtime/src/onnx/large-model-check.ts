// Dev check (not a test): builds full-size SDXL text_encoder_2 (OpenCLIP bigG, 2.8 GB in fp32) from synthetic
// weights, loads it through in-memory external data (> 2 GB, several chunks) and runs it on a device;
// with --fp16 it also builds the fp16 graph and reports its drift from fp32.
// Usage: npx tsx apps/runtime/src/onnx/large-model-check.ts [cpu|cuda|webgpu] [--fp16]
import { readFileSync } from 'node:fs';
import { SyntheticSource } from '../models/synthetic-weights.ts';
import { relativeError } from '../sdxl/testing/references.ts';
import { buildClipText } from './builders/clip-text.ts';
import type { Precision } from './graph-builder.ts';
import { createSession, type Device } from './session.ts';

const device = (process.argv[2] ?? 'cpu') as Device;
const withFp16 = process.argv.includes('--fp16');
const config = JSON.parse(
  readFileSync(new URL('../models/configs/sdxl-base/text_encoder_2/config.json', import.meta.url), 'utf8'),
) as unknown;
const ids = new BigInt64Array(2 * 77);
const prompt = [49406, 320, 1125, 539, 320, 2368, 49407]; // <start> a photo of a cat <end>, then '!' padding (0)
for (let b = 0; b < 2; b++)
  prompt.forEach((t, i) => {
    ids[b * 77 + i] = BigInt(b === 0 ? t : i === 0 ? 49406 : i === 1 ? 49407 : 0);
  });

async function runOnce(precision: Precision) {
  let t = performance.now();
  const built = buildClipText(config, new SyntheticSource({ seed: 3 }), { precision, target: device });
  const buildS = (performance.now() - t) / 1000;
  const bytes = built.externalData.reduce((a, f) => a + f.data.length, 0);
  t = performance.now();
  const s = await createSession(built, { device });
  const loadS = (performance.now() - t) / 1000;
  await s.run({ input_ids: { dims: [2, 77], data: ids, dtype: 'int64' } });
  t = performance.now();
  const out = await s.run({ input_ids: { dims: [2, 77], data: ids, dtype: 'int64' } });
  const runS = (performance.now() - t) / 1000;
  await s.release();
  console.log(
    `${precision} on ${device}: ${(bytes / 2 ** 30).toFixed(2)} GiB external data in ${built.externalData.length} chunk(s); build ${buildS.toFixed(1)} s, session ${loadS.toFixed(1)} s, run ${(runS * 1000).toFixed(0)} ms`,
  );
  return out;
}

const fp32 = await runOnce('fp32');
for (const [k, v] of Object.entries(fp32))
  if (!v.data.every(Number.isFinite)) throw new Error(`fp32 ${k} has non-finite values`);
if (withFp16) {
  const fp16 = await runOnce('fp16');
  for (const [k, v] of Object.entries(fp32))
    console.log(`  fp16 drift ${k}: ${relativeError(fp16[k]?.data as Float32Array, v.data).toExponential(2)}`);
}
