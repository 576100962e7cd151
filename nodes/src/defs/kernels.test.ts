import { describe, expect, it } from 'vitest';
import type { DenoiseRequest, RunContext, SdxlBackend, VaeDecodeRequest } from '../backend.ts';
import { catalog } from '../catalog.ts';
import type { NodeType } from '../define.ts';
import { isNodeError } from '../node-error.ts';
import { tensor } from '../tensor.ts';
import type {
  ClipHandle,
  Images,
  Latent,
  ModelHandle,
  ModelInfo,
  TaesdHandle,
  UnetHandle,
  VaeHandle,
} from '../values.ts';

// Kernels are thin: these tests check what each asks of the backend and reports through the context,
// against a recording test double of SdxlBackend (the real one is exercised by the runtime's tests).

const info: ModelInfo = {
  id: 'default',
  label: 'test model',
  isTestModel: true,
  vaeScaleFactor: 2,
  latentChannels: 4,
  vaeScalingFactor: 0.13025,
  hasTinyVae: true,
};
const handle = <K extends 'clip' | 'unet' | 'vae' | 'taesd'>(kind: K): ModelHandle<K> => ({
  kind,
  model: info,
  precision: 'fp32',
  device: 'cpu',
  offload: { mode: 'none', budgetMiB: 0 },
  weightsKey: `w-${kind}`,
});
const clip = handle('clip') as ClipHandle;
const unet = handle('unet') as UnetHandle;
const vae = handle('vae') as VaeHandle;
const taesd = handle('taesd') as TaesdHandle;
const latent: Latent = { samples: tensor([2, 4, 8, 8]), kind: 'noise' };
const images: Images = { images: tensor([3, 16, 16, 3]) };
const cond = {
  promptEmbeds: tensor([1, 77, 8]),
  pooledPromptEmbeds: tensor([1, 4]),
  negativePromptEmbeds: tensor([1, 77, 8]),
  negativePooledPromptEmbeds: tensor([1, 4]),
};

function harness(signal: AbortSignal = new AbortController().signal) {
  const calls: { method: string; args: unknown[] }[] = [];
  const progress: [number, number][] = [];
  const files: string[][] = [];
  const previews: Images[] = [];
  /** Records a call and answers with `result`. */
  const record = <T>(method: string, args: unknown[], result: T): T => {
    calls.push({ method, args });
    return result;
  };
  const backend: SdxlBackend = {
    loadModel: async (...a) => record('loadModel', a, { clip, unet, vae, taesd }),
    loadTinyVae: async (...a) => record('loadTinyVae', a, taesd),
    encodePrompt: async (...a) => record('encodePrompt', a, cond),
    cachedEncodePrompt: async (...a) => record('cachedEncodePrompt', a, { conditioning: cond, hit: true }),
    randn: (dims, seed) => record('randn', [dims, seed], tensor(dims)),
    denoise: async (req: DenoiseRequest) => {
      record('denoise', [req], null);
      for (let s = 1; s <= req.steps; s++) {
        req.signal.throwIfAborted();
        req.onStep({ step: s, total: req.steps });
        if (s % req.preview.every === 0) req.onPreview(images);
      }
      return { samples: req.latent.samples, kind: 'image' };
    },
    vaeDecode: async (req: VaeDecodeRequest) => {
      record('vaeDecode', [req], null);
      req.onProgress(1, 1);
      return images;
    },
    tinyVaeDecode: async (...a) => record('tinyVaeDecode', a, images),
    saveImage: async (_image, index, prefix, json) =>
      record('saveImage', [index, prefix, json], `${prefix}_${index}.png`),
    saveLatent: async (_l, prefix) => record('saveLatent', [prefix], `${prefix}.safetensors`),
    loadLatent: async (name) => record('loadLatent', [name], latent),
    vaeEncode: async (req) => {
      record('vaeEncode', [req], null);
      req.onProgress(1, 1);
      return { samples: tensor([1, 4, 8, 8]), kind: 'image' };
    },
    loadImage: async (req) => {
      record('loadImage', [req], null);
      if (req.file === 'missing.png') throw new Error('no file "missing.png" in the input folder');
      if (req.file === 'rgba.png') throw new Error('"rgba.png" has an alpha channel: set alpha to "ignore"');
      return images;
    },
    loadMask: async (req) => {
      record('loadMask', [req], null);
      return { mask: tensor([1, 16, 16]) };
    },
  };
  const ctx: RunContext = {
    runId: 'r1',
    nodeId: 'n1',
    backend,
    signal,
    workflowJson: '{"version":1}',
    progress: (v, m) => progress.push([v, m]),
    preview: (img) => previews.push(img),
    emitFiles: (f) => files.push([...f]),
  };
  const run = (type: keyof typeof catalog, params: Record<string, unknown>, inputs: Record<string, unknown>) => {
    const nodeType = catalog[type] as NodeType;
    return nodeType.run({ params: nodeType.def.params.parse(params), inputs, ctx } as never) as Promise<
      Record<string, unknown>
    >;
  };
  return { calls, progress, files, previews, run };
}

describe('kernels', () => {
  it('loadModel passes params and the offload policy, defaulting to none', async () => {
    const h = harness();
    const out = await h.run('loadModel', { device: 'cpu' }, {});
    expect(out).toEqual({ unet, clip, vae });
    expect(h.calls[0]!.args[0]).toEqual({
      model: 'default',
      precision: 'auto',
      device: 'cpu',
      offload: { mode: 'none', budgetMiB: 0 },
      attention: 'fused',
    });
    const policy = (await h.run('offloadPolicy', { mode: 'sequential', budgetMiB: 4096 }, {})).policy;
    await h.run('loadModel', {}, { offload: policy });
    expect(h.calls[1]!.args[0]).toMatchObject({ offload: { mode: 'sequential', budgetMiB: 4096 } });
    await h.run('loadModel', { attention: 'plain' }, {});
    expect(h.calls[2]!.args[0]).toMatchObject({ attention: 'plain' });
  });

  it('encodePrompt: an empty negative means none unless asked to encode it', async () => {
    const h = harness();
    await h.run('encodePrompt', { prompt: 'a cat' }, { clip });
    await h.run('encodePrompt', { prompt: 'a cat', encodeEmptyNegative: true }, { clip });
    await h.run('cacheEmbeddings', { prompt: 'a cat', negativePrompt: 'blur' }, { clip });
    expect(h.calls.map((c) => [c.method, c.args[2]])).toEqual([
      ['encodePrompt', null],
      ['encodePrompt', ''],
      ['cachedEncodePrompt', 'blur'],
    ]);
    expect(h.progress.at(-1)).toEqual([1, 1]);
  });

  it('emptyLatent asks for torch noise in latent space and checks the scale factor', async () => {
    const h = harness();
    const out = await h.run('emptyLatent', { width: 64, height: 32, batchSize: 3, seed: 7 }, { vae });
    expect(h.calls[0]).toEqual({ method: 'randn', args: [[3, 4, 16, 32], 7] });
    expect((out.latent as Latent).kind).toBe('noise');
    const err = await h.run('emptyLatent', { width: 63 }, { vae }).catch((e: unknown) => e);
    expect(isNodeError(err) && err.param).toBe('width');
  });

  it('unetDenoise reports each step and forwards previews', async () => {
    const h = harness();
    await h.run(
      'unetDenoise',
      { steps: 4, previewEvery: 2, scheduler: 'ddim', cfg: 7.5, seed: 3 },
      { unet, conditioning: cond, latent },
    );
    expect(h.progress).toEqual([
      [0, 4],
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
    expect(h.previews).toHaveLength(2);
    expect(h.calls[0]!.args[0]).toMatchObject({
      steps: 4,
      cfg: 7.5,
      scheduler: 'ddim',
      seed: 3,
      denoise: 1,
      preview: { method: 'latent2rgb', every: 2 },
    });
  });

  it('unetDenoise with taesd previews needs previewDecoder, and passes it on', async () => {
    const h = harness();
    const err = await h
      .run('unetDenoise', { previewMethod: 'taesd' }, { unet, conditioning: cond, latent })
      .catch((e: unknown) => e);
    expect(isNodeError(err) && err.port).toBe('previewDecoder');
    await h.run(
      'unetDenoise',
      { steps: 1, previewMethod: 'taesd' },
      { unet, conditioning: cond, latent, previewDecoder: taesd },
    );
    expect((h.calls[0]!.args[0] as DenoiseRequest).preview.taesd).toBe(taesd);
  });

  it('honours the abort signal', async () => {
    const controller = new AbortController();
    controller.abort(new Error('interrupted'));
    const h = harness(controller.signal);
    for (const [type, params, inputs] of [
      ['loadModel', {}, {}],
      ['unetDenoise', {}, { unet, conditioning: cond, latent }],
      ['vaeDecode', {}, { vae, latent }],
      ['saveImage', {}, { image: images }],
    ] as const) {
      await expect(h.run(type, params, inputs)).rejects.toThrow('interrupted');
    }
    expect(h.calls).toEqual([]);
  });

  it('vaeDecode passes slicing and tiling and reports progress', async () => {
    const h = harness();
    await h.run('vaeDecode', { slicing: true, tiling: true, tileSize: 256, tileOverlap: 32 }, { vae, latent });
    expect(h.calls[0]!.args[0]).toMatchObject({
      slicing: true,
      tiling: true,
      tileSize: 256,
      tileOverlap: 32,
      autoTiling: true,
    });
    expect(h.progress).toEqual([[1, 1]]);
  });

  it('saveImage saves every batch image with the workflow and reports the files', async () => {
    const h = harness();
    await h.run('saveImage', { filenamePrefix: 'cat' }, { image: images });
    expect(h.calls.map((c) => c.args)).toEqual([0, 1, 2].map((i) => [i, 'cat', '{"version":1}']));
    expect(h.files).toEqual([['cat_0.png', 'cat_1.png', 'cat_2.png']]);
    expect(h.progress.at(-1)).toEqual([3, 3]);
  });

  it('saveLatent, loadLatent, tiny VAE', async () => {
    const h = harness();
    await h.run('saveLatent', {}, { latent });
    expect(h.files).toEqual([['sdflow_latent.safetensors']]);
    expect((await h.run('loadLatent', { file: 'x.safetensors' }, {})).latent).toBe(latent);
    expect((await h.run('loadTinyVae', { precision: 'fp16' }, {})).taesd).toBe(taesd);
    expect((await h.run('tinyVaeDecode', {}, { taesd, latent })).image).toBe(images);
    expect(h.calls.map((c) => c.method)).toEqual(['saveLatent', 'loadLatent', 'loadTinyVae', 'tinyVaeDecode']);
  });

  it('rejects file names that leave the output folder', () => {
    for (const file of ['../x.safetensors', '/etc/passwd', 'a/b', '.hidden', '..']) {
      expect(catalog.loadLatent.def.params.safeParse({ file }).success, file).toBe(false);
    }
    expect(catalog.saveImage.def.params.safeParse({ filenamePrefix: '../up' }).success).toBe(false);
    expect(catalog.loadModel.def.params.safeParse({ model: 'org/sdxl-base' }).success).toBe(true);
    expect(catalog.loadModel.def.params.safeParse({ model: 'org/../../etc' }).success).toBe(false);
  });

  it('loadImage asks the backend for the file and names the param a failure is about', async () => {
    const h = harness();
    const out = await h.run('loadImage', { file: 'photos/cat.png', fit: 'crop-center', width: 64, height: 32 }, {});
    expect(out.image).toBe(images);
    expect(h.calls[0]!.args[0]).toMatchObject({
      file: 'photos/cat.png',
      fit: 'crop-center',
      width: 64,
      height: 32,
      allowAlpha: false,
    });
    const missing = await h.run('loadImage', { file: 'missing.png' }, {}).catch((e: unknown) => e);
    expect(isNodeError(missing) && [missing.param, missing.message]).toEqual([
      'file',
      'no file "missing.png" in the input folder',
    ]);
    const rgba = await h.run('loadImage', { file: 'rgba.png' }, {}).catch((e: unknown) => e);
    expect(isNodeError(rgba) && rgba.param).toBe('alpha');
    for (const file of ['../x.png', '/etc/passwd', 'a/../b.png', '.hidden.png', 'a//b.png', 'a\\b.png']) {
      expect(catalog.loadImage.def.params.safeParse({ file }).success, file).toBe(false);
    }
  });

  it('vaeEncode passes sampling, seed and slicing, and refuses an image the VAE cannot take', async () => {
    const h = harness();
    const rgb: Images = { images: tensor([2, 16, 16, 3]) };
    await h.run('vaeEncode', { sampling: 'mode', seed: 7, slicing: true }, { vae, image: rgb });
    expect(h.calls[0]!.args[0]).toMatchObject({ sampling: 'mode', seed: 7, slicing: true, image: rgb, vae });
    expect(h.progress).toEqual([[1, 1]]);
    const odd = { images: tensor([1, 15, 16, 3]) };
    const err = await h.run('vaeEncode', {}, { vae, image: odd }).catch((e: unknown) => e);
    expect(isNodeError(err) && [err.port, err.message]).toEqual([
      'image',
      'image is 16x15, not a multiple of the VAE scale factor 2: fit it on Load Image (width, height)',
    ]);
    expect(h.calls).toHaveLength(1);
  });

  it('loadMask passes the channel; setLatentMask binarizes and takes every f-th pixel, and checks sizes', async () => {
    const h = harness();
    await h.run('loadMask', { file: 'm.png', channel: 'alpha' }, {});
    expect(h.calls[0]!.args[0]).toMatchObject({ file: 'm.png', channel: 'alpha', fit: 'none' });
    // a 4x4 mask over a 2x2 latent (VAE factor 2): pixels (0, 0), (2, 0), (0, 2), (2, 2) count
    const m = Float32Array.from([0.5, 1, 0.49, 1, 1, 1, 1, 1, 0, 1, 0.9, 1, 1, 1, 1, 1]);
    const encoded: Latent = { samples: tensor([1, 4, 2, 2]), kind: 'image', drawn: { seed: 1, count: 16 } };
    const out = (await h.run('setLatentMask', {}, { latent: encoded, mask: { mask: tensor([1, 4, 4], m) } }))
      .latent as Latent;
    expect(out.mask).toEqual({ dims: [1, 1, 2, 2], data: Float32Array.from([1, 0, 0, 1]) });
    expect(out.samples).toBe(encoded.samples);
    expect(out.drawn).toEqual({ seed: 1, count: 16 });
    const wrongSize = await h
      .run('setLatentMask', {}, { latent: encoded, mask: { mask: tensor([1, 4, 6]) } })
      .catch((e: unknown) => e);
    expect(isNodeError(wrongSize) && [wrongSize.port, wrongSize.message]).toEqual([
      'mask',
      'mask is 6x4, but the latent is 2x2: the mask must be the size of the encoded image',
    ]);
    const noise = await h
      .run('setLatentMask', {}, { latent: { ...encoded, kind: 'noise' }, mask: { mask: tensor([1, 4, 4]) } })
      .catch((e: unknown) => e);
    expect(isNodeError(noise) && noise.port).toBe('latent');
  });

  it('vaeDecode refuses an overlap as large as the tile', () => {
    const r = catalog.vaeDecode.def.params.safeParse({ tileSize: 64, tileOverlap: 64 });
    expect(r.success || r.error.issues[0]!.path).toEqual(['tileOverlap']);
  });
});
