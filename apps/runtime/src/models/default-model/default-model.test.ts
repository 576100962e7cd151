import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plainDecode, testBackends } from '../../backend/testing/test-backends.ts';
import { fixtureDir } from '../../sdxl/testing/references.ts';
import { parseMerges } from '../../sdxl/tokenizer.ts';
import { defaultClipVocab } from './clip-bpe-vocab.ts';

const work = mkdtempSync(path.join(tmpdir(), 'sdflow-default-'));
const backends = testBackends(work, path.join(work, 'models'));
const backend = backends.create();
afterAll(() => backends.disposeAll());
const signal = new AbortController().signal;

describe('built-in default model', () => {
  it('derives the hub CLIP vocabulary and merges from the shipped BPE file', () => {
    const { vocab, merges } = defaultClipVocab();
    const hubVocab = JSON.parse(readFileSync(path.join(fixtureDir, 'tokenizer', 'vocab.json'), 'utf8'));
    expect(vocab).toEqual(hubVocab);
    expect(merges).toEqual(parseMerges(readFileSync(path.join(fixtureDir, 'tokenizer', 'merges.txt'), 'utf8')));
  });

  it('runs a 64x64 txt2img with the tiny VAE preview, marked as a test model', async () => {
    const { clip, unet, vae, taesd } = await backend.loadModel({
      model: 'default',
      precision: 'auto',
      device: 'auto',
      offload: { mode: 'none', budgetMiB: 0 },
    });
    expect(unet.model.isTestModel).toBe(true);
    expect(unet.model.vaeScaleFactor).toBe(8);
    expect(taesd).not.toBeNull();
    const conditioning = await backend.encodePrompt(clip, 'a lighthouse at dusk', null, signal);
    const previews: number[][] = [];
    const latent = await backend.denoise({
      unet,
      conditioning,
      latent: { samples: backend.randn([1, 4, 8, 8], 42), kind: 'noise' },
      steps: 4,
      cfg: 5,
      scheduler: 'dpmpp_2m_karras',
      seed: 42,
      denoise: 1,
      preview: { method: 'taesd', every: 2, taesd: taesd! },
      onStep: () => undefined,
      onPreview: (img) => previews.push([...img.images.dims]),
      signal,
    });
    expect(previews).toEqual([
      [1, 64, 64, 3],
      [1, 64, 64, 3],
    ]);
    const image = await plainDecode(backend, vae, latent, signal);
    expect(image.images.dims).toEqual([1, 64, 64, 3]);
    expect(image.images.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    // deterministic weights: the same request gives the same latents
    const again = await backend.denoise({
      unet,
      conditioning,
      latent: { samples: backend.randn([1, 4, 8, 8], 42), kind: 'noise' },
      steps: 4,
      cfg: 5,
      scheduler: 'dpmpp_2m_karras',
      seed: 42,
      denoise: 1,
      preview: { method: 'none', every: 1 },
      onStep: () => undefined,
      onPreview: () => undefined,
      signal,
    });
    expect([...again.samples.data]).toEqual([...latent.samples.data]);
  });
});
