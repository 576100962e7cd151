import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { OffloadPolicy } from '@sdflow/nodes/values.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../models/safetensors.ts';
import { fixtureDir } from '../sdxl/testing/references.ts';
import { torchRandn } from '../sdxl/torch-rng.ts';
import type { OnnxBackend } from './onnx-backend.ts';
import { plainDecode, testBackends } from './testing/test-backends.ts';

// Model store counters: the embedding cache never loads text encoders on a hit (across restarts), and
// model offload keeps fewer sessions resident than no offload.

const work = mkdtempSync(path.join(tmpdir(), 'sdflow-store-'));
const modelsDir = path.dirname(fixtureDir);
const modelId = path.basename(fixtureDir);
const signal = new AbortController().signal;
const backends = testBackends(work, modelsDir);
const backend = (): OnnxBackend => backends.create();
afterAll(() => backends.disposeAll());

const load = (b: OnnxBackend, mode: OffloadPolicy['mode']) =>
  b.loadModel({ model: modelId, precision: 'fp32', device: 'cpu', offload: { mode, budgetMiB: 0 } });

describe('embedding cache', () => {
  it('a hit never creates text-encoder sessions, also in a fresh backend on the same cacheDir', async () => {
    const first = backend();
    const { clip } = await load(first, 'none');
    const miss = await first.cachedEncodePrompt(clip, 'a red fox', 'blurry', signal);
    expect(miss.hit).toBe(false);
    expect(first.store.stats().created.text_encoder).toBe(1);
    expect(readdirSync(path.join(work, 'cache', 'embeddings')).filter((n) => n.endsWith('.safetensors'))).toHaveLength(
      1,
    );

    const second = backend();
    const { clip: clip2 } = await load(second, 'none');
    const hit = await second.cachedEncodePrompt(clip2, 'a red fox', 'blurry', signal);
    expect(hit.hit).toBe(true);
    expect(second.store.stats().created.text_encoder ?? 0).toBe(0);
    expect(second.store.stats().created.text_encoder_2 ?? 0).toBe(0);
    expect([...hit.conditioning.promptEmbeds.data]).toEqual([...miss.conditioning.promptEmbeds.data]);
    expect([...hit.conditioning.negativePooledPromptEmbeds.data]).toEqual([
      ...miss.conditioning.negativePooledPromptEmbeds.data,
    ]);

    // a different negative (here: none, zeroed) is a different entry
    const other = await second.cachedEncodePrompt(clip2, 'a red fox', null, signal);
    expect(other.hit).toBe(false);
    expect(other.conditioning.negativePromptEmbeds.data.every((v) => v === 0)).toBe(true);
  });
});

describe('offload policies', () => {
  async function txt2img(b: OnnxBackend, mode: OffloadPolicy['mode']) {
    const { clip, unet, vae } = await load(b, mode);
    const conditioning = await b.encodePrompt(clip, 'a photo of a cat', null, signal);
    b.store.resetPeak();
    const residentDuringDenoise: number[] = [];
    const latent = await b.denoise({
      unet,
      conditioning,
      latent: { samples: { dims: [1, 4, 8, 8], data: torchRandn([1, 4, 8, 8], 1) }, kind: 'noise' },
      steps: 2,
      cfg: 5,
      scheduler: 'euler',
      seed: 1,
      denoise: 1,
      preview: { method: 'latent2rgb', every: 1 },
      onStep: () => residentDuringDenoise.push(b.store.stats().resident.length),
      onPreview: () => undefined,
      signal,
    });
    const denoisePeak = b.store.stats().peakResident;
    await plainDecode(b, vae, latent, signal);
    return { latent, residentDuringDenoise, denoisePeak, stats: b.store.stats() };
  }

  it('model offload keeps fewer components resident during denoise than none; results agree', async () => {
    const none = await txt2img(backend(), 'none');
    const model = await txt2img(backend(), 'model');
    // none: both text encoders stay beside the UNet; model: the UNet alone
    expect(none.residentDuringDenoise.every((n) => n === 3)).toBe(true);
    expect(model.residentDuringDenoise.every((n) => n === 1)).toBe(true);
    expect(model.denoisePeak).toBeLessThan(none.denoisePeak);
    expect(model.stats.resident).toEqual(['vae_decoder']);
    expect([...model.latent.samples.data]).toEqual([...none.latent.samples.data]);
  });

  it('sequential offload streams the weights from host memory, one component resident at a time', async () => {
    const none = await txt2img(backend(), 'none');
    const b = backend();
    const seq = await txt2img(b, 'sequential');
    expect(seq.residentDuringDenoise.every((n) => n === 1)).toBe(true);
    expect(seq.denoisePeak).toBe(1);
    expect(seq.stats.created.unet).toBe(1);
    // the decoder's session keeps only its smallest weights (at most 1% of the bytes): the rest is fed on each run
    const vae = SafetensorsFile.open(path.join(fixtureDir, 'vae', 'diffusion_pytorch_model.safetensors'));
    const decoderBytes = [...vae.entries]
      .filter(([name]) => name.startsWith('decoder.') || name.startsWith('post_quant_conv.'))
      .reduce((a, [, e]) => a + e.end - e.begin, 0);
    expect(seq.stats.hostWeightBytes.vae_decoder).toBeGreaterThanOrEqual(0.99 * decoderBytes);
    expect(seq.stats.hostWeightBytes.vae_decoder).toBeLessThanOrEqual(decoderBytes);
    expect(none.stats.hostWeightBytes.vae_decoder).toBe(0);
    const maxDiff = Math.max(...seq.latent.samples.data.map((v, i) => Math.abs(v - none.latent.samples.data[i]!)));
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
