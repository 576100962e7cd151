import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunContext } from '@sdflow/nodes/backend.ts';
import { catalog } from '@sdflow/nodes/catalog.ts';
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import type { Conditioning, Latent } from '@sdflow/nodes/values.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../models/safetensors.ts';
import { fixtureDir, readReferenceTensors, reference, relativeError } from '../sdxl/testing/references.ts';
import { loadFixtureModel, plainDecode, testBackends } from './testing/test-backends.ts';

// Image to image through the backend API against diffusers (reference/: make_img2img_references.py ran
// StableDiffusionXLImg2ImgPipeline's own prepare_latents, get_timesteps, ... on the sdxl-tiny fixture): Load Image
// of reference/input.png, VAE Encode sampled with the seed, UNet Denoise at strength 0.3 and 0.75 (euler, and euler
// ancestral, whose step noise follows the encoder's and prepare_latents' draws of the one generator), VAE Decode.

const referenceDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'reference');
const file = path.join(referenceDir, 'img2img.safetensors');
const refs = new Map<string, Tensor>();
for (const [k, v] of decodeSafetensors(readFileSync(file), file)) {
  if (v.data instanceof Float32Array) refs.set(k, { dims: v.dims, data: v.data });
}
const ref = (key: string) => reference(refs as Map<string, { dims: number[]; data: Float32Array }>, key);
interface Case {
  strength: number;
  steps: number;
  seed: number;
  guidance_scale: number;
  scheduler: string;
}
const meta = JSON.parse(readFileSync(path.join(referenceDir, 'img2img.json'), 'utf8')) as {
  cases: Record<string, Case>;
  inpaint_cases: Record<string, Case>;
};

const work = mkdtempSync(path.join(tmpdir(), 'sdflow-img2img-'));
const inputDir = path.join(work, 'input');
mkdirSync(inputDir);
copyFileSync(path.join(referenceDir, 'input.png'), path.join(inputDir, 'input.png'));
copyFileSync(path.join(referenceDir, 'mask.png'), path.join(inputDir, 'mask.png'));
const backends = testBackends(work, path.dirname(fixtureDir));
const backend = backends.create({ inputDir });
afterAll(() => backends.disposeAll());

const signal = new AbortController().signal;
const kernelContext = { signal } as RunContext;
const model = loadFixtureModel(backend, fixtureDir);

// the prompt's embeddings as diffusers had them ('a photo of a cat', negative ''): the text encoders are tested
// elsewhere (pipeline.test.ts), and the reference script fed these
const enc = readReferenceTensors('encode_prompt.safetensors');
const conditioning: Conditioning = {
  promptEmbeds: reference(enc, 'neg_empty.prompt_embeds'),
  pooledPromptEmbeds: reference(enc, 'neg_empty.pooled_prompt_embeds'),
  negativePromptEmbeds: reference(enc, 'neg_empty.negative_prompt_embeds'),
  negativePooledPromptEmbeds: reference(enc, 'neg_empty.negative_pooled_prompt_embeds'),
};

function loadInput() {
  return backend.loadImage({ file: 'input.png', fit: 'none', width: 32, height: 32, allowAlpha: false, signal });
}

async function encode(sampling: 'sample' | 'mode', seed: number): Promise<Latent> {
  const { vae } = await model;
  const image = await loadInput();
  return backend.vaeEncode({ vae, image, sampling, seed, slicing: false, onProgress: () => undefined, signal });
}

/** UNet Denoise as a case of the references asks, then its latents and decoded image checked at 1e-3. */
async function checkCase(key: string, c: Case, latent: Latent) {
  const { vae } = await model;
  const steps: number[] = [];
  const out = await denoiseCase(c, latent, (step) => steps.push(step));
  // get_timesteps: int(steps * strength) of the schedule's last timesteps run
  expect(steps.length).toBe(ref(`${key}.timesteps`).data.length);
  expect(maxRelative(out.samples.data, ref(`${key}.latents_out`).data)).toBeLessThan(1e-3);
  expect(relativeError(out.samples.data, ref(`${key}.latents_out`).data)).toBeLessThan(1e-3);
  const { images } = await plainDecode(backend, vae, out, signal);
  expect(maxRelative(images.data, ref(`${key}.image`).data)).toBeLessThan(1e-3);
}

async function denoiseCase(c: Case, latent: Latent, onStep: (step: number) => void = () => undefined) {
  const { unet } = await model;
  return backend.denoise({
    unet,
    conditioning,
    latent,
    steps: c.steps,
    cfg: c.guidance_scale,
    scheduler: c.scheduler as 'euler' | 'euler_ancestral',
    seed: c.seed,
    denoise: c.strength,
    preview: { method: 'none', every: 1 },
    onStep: (s) => onStep(s.step),
    onPreview: () => undefined,
    signal,
  });
}

/** max |a - b| / max |b| */
function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

describe('image to image via the ONNX backend (sdxl-tiny, CPU, fp32) against diffusers', () => {
  it("Load Image reads the PNG as diffusers' VaeImageProcessor does (uint8 / 255, then 2x - 1)", async () => {
    const { images } = await loadInput();
    expect(images.dims).toEqual([1, 32, 32, 3]);
    const want = ref('image_in'); // NCHW in [-1, 1]
    const plane = 32 * 32;
    let worst = 0;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < plane; p++) {
        worst = Math.max(worst, Math.abs(Math.fround(2 * images.data[p * 3 + c]! - 1) - want.data[c * plane + p]!));
      }
    }
    expect(worst).toBe(0);
  });

  it('VAE Encode: latent_dist.sample(generator) and .mode(), times scaling_factor, within 1e-4', async () => {
    const sampled = await encode('sample', 42);
    expect(sampled.samples.dims).toEqual([1, 4, 16, 16]);
    expect(sampled.kind).toBe('image');
    expect(sampled.drawn).toEqual({ seed: 42, count: 4 * 16 * 16 });
    expect(maxRelative(sampled.samples.data, ref('init_latents').data)).toBeLessThan(1e-4);
    const mode = await encode('mode', 42);
    expect(mode.drawn).toBeUndefined();
    expect(maxRelative(mode.samples.data, ref('mode_latents').data)).toBeLessThan(1e-4);
  });

  it("VAE Encode under an fp16 model keeps the encoder in fp32 where the VAE's config sets force_upcast", async () => {
    const { vae } = await model;
    const image = await loadInput();
    const req = { image, sampling: 'mode' as const, seed: 0, slicing: false, onProgress: () => undefined, signal };
    const fp16 = await backend.vaeEncode({ ...req, vae: { ...vae, precision: 'fp16' } });
    expect(maxRelative(fp16.samples.data, ref('mode_latents').data)).toBeLessThan(1e-4);
  });

  it('VAE Encode with slicing gives the same latents for a batch', async () => {
    const { vae } = await model;
    const one = await loadInput();
    const flipped = one.images.data.map((v) => 1 - v);
    const image = { images: { dims: [2, 32, 32, 3], data: Float32Array.of(...one.images.data, ...flipped) } };
    const req = { vae, image, sampling: 'sample' as const, seed: 5, onProgress: () => undefined, signal };
    const progress: number[] = [];
    const sliced = await backend.vaeEncode({ ...req, slicing: true, onProgress: (d) => progress.push(d) });
    const whole = await backend.vaeEncode({ ...req, slicing: false });
    expect(progress).toEqual([1, 2]);
    expect(sliced.samples.dims).toEqual([2, 4, 16, 16]);
    expect(maxRelative(sliced.samples.data, whole.samples.data)).toBeLessThan(1e-5);
  });

  for (const [key, c] of Object.entries(meta.cases)) {
    it(`${key}: strength ${c.strength}, ${c.scheduler}, ${c.steps} steps: latents and image within 1e-3`, async () => {
      await checkCase(key, c, await encode('sample', c.seed));
    });
  }

  it('an encoder seed other than the denoise seed leaves the noise independent of the encoder draws', async () => {
    const c = meta.cases.s075!;
    const latent = await encode('sample', c.seed);
    const other = await denoiseCase(c, { ...latent, drawn: { seed: c.seed + 1, count: latent.samples.data.length } });
    expect(relativeError(other.samples.data, ref('s075.latents_out').data)).toBeGreaterThan(1e-2);
  });
});

describe('inpainting with an ordinary model (masked latent blending) against diffusers', () => {
  async function maskedLatent(seed: number): Promise<Latent> {
    const latent = await encode('sample', seed);
    const { mask } = await backend.loadMask({
      file: 'mask.png',
      channel: 'luminance',
      fit: 'none',
      width: 32,
      height: 32,
      signal,
    });
    expect(mask.dims).toEqual([1, 32, 32]);
    expect(maxRelative(mask.data, ref('mask').data)).toBe(0);
    // Set Latent Mask's kernel, as a run would call it
    const out = await catalog.setLatentMask.run({ params: {}, inputs: { latent, mask: { mask } }, ctx: kernelContext });
    expect(out.latent.mask?.data).toEqual(ref('mask_latents').data);
    return out.latent;
  }

  for (const [key, c] of Object.entries(meta.inpaint_cases)) {
    it(`${key}: strength ${c.strength}, ${c.scheduler}: latents and image within 1e-3`, async () => {
      await checkCase(key, c, await maskedLatent(c.seed));
    });
  }
});
