import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureDir, readReferenceTensors, reference, relativeError } from '../sdxl/testing/references.ts';
import { plainDecode, testBackends } from './testing/test-backends.ts';

// The full 4-step pipeline through the backend API reproduces diffusers' pipeline.safetensors (euler, cfg 5, 32x32).

const refs = readReferenceTensors('pipeline.safetensors');
const work = mkdtempSync(path.join(tmpdir(), 'sdflow-pipeline-'));
const backends = testBackends(work, path.dirname(fixtureDir));
const backend = backends.create();
afterAll(() => backends.disposeAll());

const signal = new AbortController().signal;
const model = backend.loadModel({
  model: path.basename(fixtureDir),
  precision: 'fp32',
  device: 'cpu',
  offload: { mode: 'none', budgetMiB: 0 },
});

async function run(latentsKey: string, negative: string | null) {
  const { clip, unet, vae } = await model;
  const conditioning = await backend.encodePrompt(clip, 'a photo of a cat', negative, signal);
  const samples = reference(refs, latentsKey);
  const steps: number[] = [];
  const latent = await backend.denoise({
    unet,
    conditioning,
    latent: { samples, kind: 'noise' },
    steps: 4,
    cfg: 5,
    scheduler: 'euler',
    seed: 0,
    denoise: 1,
    preview: { method: 'none', every: 1 },
    onStep: (s) => steps.push(s.step),
    onPreview: () => undefined,
    signal,
  });
  expect(steps).toEqual([1, 2, 3, 4]);
  const decoded = await plainDecode(backend, vae, latent, signal);
  return { latent, image: decoded.images };
}

describe('SDXL conditioning via the ONNX backend', () => {
  const enc = readReferenceTensors('encode_prompt.safetensors');
  for (const [key, negative] of [
    ['neg_none', null],
    ['neg_empty', ''],
    ['neg_blurry', 'blurry'],
  ] as const) {
    it(`${key}: encode_prompt within 1e-4`, async () => {
      const { clip } = await model;
      const c = await backend.encodePrompt(clip, 'a photo of a cat', negative, signal);
      expect(c.promptEmbeds.dims).toEqual([1, 77, 64]);
      expect(c.pooledPromptEmbeds.dims).toEqual([1, 32]);
      expect(relativeError(c.promptEmbeds.data, reference(enc, `${key}.prompt_embeds`).data)).toBeLessThan(1e-4);
      expect(relativeError(c.pooledPromptEmbeds.data, reference(enc, `${key}.pooled_prompt_embeds`).data)).toBeLessThan(
        1e-4,
      );
      if (negative === null) {
        expect(c.negativePromptEmbeds.data.every((v) => v === 0)).toBe(true);
        expect(c.negativePooledPromptEmbeds.data.every((v) => v === 0)).toBe(true);
      } else {
        const neg = reference(enc, `${key}.negative_prompt_embeds`).data;
        expect(relativeError(c.negativePromptEmbeds.data, neg)).toBeLessThan(1e-4);
        const negPooled = reference(enc, `${key}.negative_pooled_prompt_embeds`).data;
        expect(relativeError(c.negativePooledPromptEmbeds.data, negPooled)).toBeLessThan(1e-4);
      }
    });
  }
});

describe('SDXL pipeline via the ONNX backend', () => {
  it('run1: prompt with an empty (encoded) negative', async () => {
    const { latent, image } = await run('run1.latents_in', '');
    expect(relativeError(latent.samples.data, reference(refs, 'run1.latents_out').data)).toBeLessThan(1e-3);
    expect(image.dims).toEqual([1, 32, 32, 3]);
    expect(relativeError(image.data, reference(refs, 'run1.image').data)).toBeLessThan(1e-3);
  });

  it('run2: two images per prompt', async () => {
    const { latent, image } = await run('run2.latents_in', '');
    expect(relativeError(latent.samples.data, reference(refs, 'run2.latents_out').data)).toBeLessThan(1e-3);
    expect(relativeError(image.data, reference(refs, 'run2.image').data)).toBeLessThan(1e-3);
  });

  it('run3: no negative prompt (zeroed negative embeddings)', async () => {
    const { latent, image } = await run('run1.latents_in', null);
    expect(relativeError(latent.samples.data, reference(refs, 'run3.latents_out').data)).toBeLessThan(1e-3);
    expect(relativeError(image.data, reference(refs, 'run3.image').data)).toBeLessThan(1e-3);
  });

  it('stops within one step when interrupted, and runs img2img (denoise < 1) from an image latent', async () => {
    const { clip, unet } = await model;
    const conditioning = await backend.encodePrompt(clip, 'a photo of a cat', null, signal);
    const controller = new AbortController();
    const seen: number[] = [];
    const request = {
      unet,
      conditioning,
      latent: { samples: reference(refs, 'run1.latents_in'), kind: 'noise' as const },
      steps: 10,
      cfg: 5,
      scheduler: 'euler_ancestral' as const,
      seed: 3,
      denoise: 1,
      preview: { method: 'latent2rgb' as const, every: 1 },
      onPreview: () => undefined,
    };
    await expect(
      backend.denoise({
        ...request,
        onStep: (s) => {
          seen.push(s.step);
          if (s.step === 2) controller.abort();
        },
        signal: controller.signal,
      }),
    ).rejects.toThrow();
    expect(seen).toEqual([1, 2]);
    const steps: { step: number; total: number }[] = [];
    const out = await backend.denoise({
      ...request,
      latent: { samples: reference(refs, 'run1.latents_out'), kind: 'image' },
      denoise: 0.5,
      onStep: (s) => steps.push(s),
      signal,
    });
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5]);
    expect(steps[0]!.total).toBe(5);
    expect(out.samples.data.every(Number.isFinite)).toBe(true);
  });

  it('run4: the tiny VAE decodes run1', async () => {
    const taesd = await backend.loadTinyVae({ model: path.basename(fixtureDir), precision: 'fp32', device: 'cpu' });
    const { latent } = await run('run1.latents_in', '');
    const image = await backend.tinyVaeDecode(taesd, latent, signal);
    expect(relativeError(image.images.data, reference(refs, 'run4.image').data)).toBeLessThan(1e-3);
  });

  it('run4: in a batch, each image decodes as it would alone (the tiny VAE runs one image per call)', async () => {
    const taesd = await backend.loadTinyVae({ model: path.basename(fixtureDir), precision: 'fp32', device: 'cpu' });
    const { latent } = await run('run1.latents_in', '');
    const other = latent.samples.data.map((v, i) => v * -0.5 + (i % 7) * 0.1);
    const batch = {
      dims: [2, ...latent.samples.dims.slice(1)],
      data: Float32Array.of(...other, ...latent.samples.data),
    };
    const { images } = await backend.tinyVaeDecode(taesd, { ...latent, samples: batch }, signal);
    expect(images.dims[0]).toBe(2);
    const half = images.data.length / 2;
    expect(relativeError(images.data.subarray(half), reference(refs, 'run4.image').data)).toBeLessThan(1e-3);
    expect(relativeError(images.data.subarray(0, half), reference(refs, 'run4.image').data)).toBeGreaterThan(1e-2);
  });
});
