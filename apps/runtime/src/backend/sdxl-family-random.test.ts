import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SchedulerName } from '@sdflow/nodes/backend.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { createOnnxBackend } from './onnx-backend.ts';
import { runPipeline } from './testing/run-pipeline.ts';
import { randomSdxlFamilySpec, sdxlFamilyConfigs } from './testing/sdxl-family-spec.ts';
import { seededRandom } from './testing/seeded-random.ts';
import { writeDiffusersFolder } from './testing/write-diffusers-folder.ts';

// Random SDXL-family shapes from seeded specs (a failure names its seed: randomSdxlFamilySpec(seed) rebuilds it),
// each written as a diffusers folder and run for one CFG step at a small size.

// SDFLOW_FAMILY_SEEDS="1-50" (or "7,9") explores other seeds; the default set keeps this file well under a minute
const SEEDS = parseSeeds(process.env.SDFLOW_FAMILY_SEEDS) ?? [101, 202, 303, 404, 505, 606];

function parseSeeds(text: string | undefined): number[] | null {
  if (!text) return null;
  return text.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}
const SCHEDULERS: SchedulerName[] = ['euler', 'euler_ancestral', 'dpmpp_2m_karras', 'ddim'];

const work = mkdtempSync(path.join(tmpdir(), 'sdflow-family-random-'));
const backend = createOnnxBackend({
  modelsDir: path.join(work, 'models'),
  outputDir: path.join(work, 'out'),
  cacheDir: path.join(work, 'cache'),
  threads: 1,
});
afterAll(async () => {
  await backend.dispose();
  rmSync(work, { recursive: true, force: true });
});

describe('random SDXL-family configs', () => {
  for (const seed of SEEDS) {
    const spec = randomSdxlFamilySpec(seed);
    const u = spec.unet;
    const label =
      `seed ${seed}: UNet ${u.channels.join('/')} heads ${u.heads} depth ${u.transformerDepth}, ` +
      `TE ${spec.te1.hidden}+${spec.te2.hidden}->${spec.te2.projection}, VAE ${spec.vae.channels.join('/')}` +
      `${spec.taesd ? `, TAESD ${spec.taesd.decoderBlocks.join('/')}` : ''}`;
    it(label, async () => {
      const id = `random-${seed}`;
      writeDiffusersFolder(path.join(work, 'models', id), sdxlFamilyConfigs(spec), { seed });
      const r = seededRandom(seed ^ 0x5eed);
      const f = 2 ** (spec.vae.channels.length - 1);
      // latents of 2..3 x 2..3 times the UNet's total downsampling, odd multiples included
      const down = 2 ** (u.channels.length - 1);
      const [h, w] = [r.int(2, 3) * down + r.int(0, 1), r.int(2, 3) * down];
      const out = await runPipeline(backend, {
        model: id,
        width: w * f,
        height: h * f,
        steps: 1,
        cfg: 4,
        scheduler: r.pick(SCHEDULERS),
        seed,
        save: false,
      });
      expect(out.conditioning.promptEmbeds.dims).toEqual([1, 77, spec.te1.hidden + spec.te2.hidden]);
      expect(out.conditioning.pooledPromptEmbeds.dims).toEqual([1, spec.te2.projection]);
      expect(out.latent.samples.dims).toEqual([1, spec.vae.latentChannels, h, w]);
      expect(out.image.dims).toEqual([1, h * f, w * f, 3]);
      expect(out.latent.samples.data.every(Number.isFinite)).toBe(true);
      expect(out.image.data.every(Number.isFinite)).toBe(true);
      if (spec.taesd) {
        expect(out.tinyImage?.dims).toEqual([1, h * f, w * f, 3]);
        expect(out.tinyImage!.data.every(Number.isFinite)).toBe(true);
      }
    });
  }
});
