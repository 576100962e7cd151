import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { catalog } from '@sdflow/nodes/catalog.ts';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute } from '../executor/execute.ts';
import { OutputCache } from '../executor/output-cache.ts';
import { txt2imgWorkflow } from '../executor/test/txt2img-workflow.ts';
import { relativeError } from '../sdxl/testing/references.ts';
import type { OnnxBackend } from './onnx-backend.ts';
import { type PipelineRequest, runPipeline } from './testing/run-pipeline.ts';
import { type FolderConfigs, type SdxlFamilySpec, sdxlFamilyConfigs } from './testing/sdxl-family-spec.ts';
import { testBackends } from './testing/test-backends.ts';
import { type WriteFolderOptions, writeDiffusersFolder } from './testing/write-diffusers-folder.ts';

// SDXL-family models of other shapes, built from config.json + safetensors alone, run end to end through the backend.

const THREE_LEVELS: SdxlFamilySpec = {
  te1: { hidden: 24, layers: 2, heads: 3, intermediate: 48, act: 'quick_gelu', eosTokenId: 2 },
  te2: { hidden: 40, layers: 3, heads: 5, intermediate: 96, act: 'gelu', eosTokenId: 49407, projection: 20 },
  unet: {
    channels: [16, 32, 48],
    crossAttn: [false, true, true],
    heads: [1, 2, 4],
    layersPerBlock: 1,
    transformerDepth: [1, 1, 2],
    groups: 8,
    addTimeEmbedDim: 8,
    linearProjection: true,
  },
  vae: {
    channels: [8, 16, 24],
    layersPerBlock: 2,
    groups: 4,
    latentChannels: 4,
    scalingFactor: 0.2,
    midAttention: true,
  },
  taesd: { channels: 8, decoderBlocks: [2, 0, 1], encoderBlocks: [1, 1, 1], act: 'relu' },
  scheduler: { predictionType: 'epsilon', timestepSpacing: 'leading' },
};

const TWO_LEVELS: SdxlFamilySpec = {
  te1: { hidden: 16, layers: 2, heads: 2, intermediate: 64, act: 'quick_gelu', eosTokenId: 49407 },
  te2: { hidden: 32, layers: 2, heads: 4, intermediate: 32, act: 'gelu_new', eosTokenId: 2, projection: 32 },
  unet: {
    channels: [24, 24],
    crossAttn: [true, true],
    heads: 3,
    layersPerBlock: [2, 1],
    transformerDepth: [1, 3],
    groups: 6,
    addTimeEmbedDim: 4,
    linearProjection: false,
  },
  vae: {
    channels: [4, 8, 8, 16],
    layersPerBlock: 1,
    groups: 4,
    latentChannels: 6,
    scalingFactor: 0.5,
    midAttention: false,
  },
  taesd: null,
  scheduler: { predictionType: 'v_prediction', timestepSpacing: 'trailing' },
};

const FOUR_LEVELS: SdxlFamilySpec = {
  te1: { hidden: 8, layers: 2, heads: 1, intermediate: 8, act: 'gelu', eosTokenId: 2 },
  te2: { hidden: 24, layers: 4, heads: 2, intermediate: 24, act: 'gelu_new', eosTokenId: 49407, projection: 12 },
  unet: {
    channels: [8, 16, 16, 32],
    crossAttn: [false, false, true, true],
    heads: [1, 1, 2, 8],
    layersPerBlock: 1,
    transformerDepth: 2,
    groups: 4,
    addTimeEmbedDim: 6,
    linearProjection: true,
  },
  vae: {
    channels: [8, 16],
    layersPerBlock: 1,
    groups: 8,
    latentChannels: 4,
    scalingFactor: 0.13025,
    midAttention: true,
  },
  taesd: { channels: 4, decoderBlocks: [1, 1], encoderBlocks: [1, 2], act: 'silu' },
  scheduler: { predictionType: 'epsilon', timestepSpacing: 'linspace' },
};

const work = mkdtempSync(path.join(tmpdir(), 'sdflow-family-'));
const modelsDir = path.join(work, 'models');
const backends = testBackends(work, modelsDir);
const backend = (): OnnxBackend => backends.create();
function write(id: string, spec: SdxlFamilySpec, opts?: WriteFolderOptions): FolderConfigs {
  const configs = sdxlFamilyConfigs(spec);
  writeDiffusersFolder(path.join(modelsDir, id), configs, opts);
  return configs;
}

beforeAll(() => {
  write('three-levels', THREE_LEVELS);
  write('two-levels-fp16', TWO_LEVELS, { variant: 'fp16' });
  write('two-levels', TWO_LEVELS);
  write('four-levels-sharded', FOUR_LEVELS, { unetShards: 3 });
  write('four-levels', FOUR_LEVELS);
}, 60_000);
afterAll(() => backends.disposeAll(), 60_000);

const finite = (d: Float32Array) => d.every(Number.isFinite);

const cases: { id: string; spec: SdxlFamilySpec; req: Omit<PipelineRequest, 'model'> }[] = [
  {
    id: 'three-levels',
    spec: THREE_LEVELS,
    req: { width: 24, height: 32, steps: 3, cfg: 5, scheduler: 'euler', seed: 1 },
  },
  {
    id: 'two-levels-fp16',
    spec: TWO_LEVELS,
    req: { width: 64, height: 48, steps: 2, cfg: 4, scheduler: 'dpmpp_2m_karras', seed: 2 },
  },
  {
    id: 'four-levels-sharded',
    spec: FOUR_LEVELS,
    req: { width: 16, height: 20, steps: 2, cfg: 3, scheduler: 'euler_ancestral', seed: 3 },
  },
];

describe('SDXL-family models of other shapes', () => {
  const shared = backend();
  for (const { id, spec, req } of cases) {
    it(`${id}: encode, denoise with CFG, VAE and tiny VAE decode, save`, async () => {
      const r = await runPipeline(shared, { model: id, ...req });
      const f = 2 ** (spec.vae.channels.length - 1);
      const lc = spec.vae.latentChannels;
      expect(r.conditioning.promptEmbeds.dims).toEqual([1, 77, spec.te1.hidden + spec.te2.hidden]);
      expect(r.conditioning.pooledPromptEmbeds.dims).toEqual([1, spec.te2.projection]);
      expect(r.conditioning.negativePromptEmbeds.dims).toEqual([1, 77, spec.te1.hidden + spec.te2.hidden]);
      expect(r.steps).toEqual(Array.from({ length: req.steps }, (_, i) => i + 1));
      expect(r.latent.samples.dims).toEqual([1, lc, req.height / f, req.width / f]);
      expect(r.image.dims).toEqual([1, req.height, req.width, 3]);
      for (const t of [r.conditioning.promptEmbeds, r.conditioning.pooledPromptEmbeds, r.latent.samples, r.image])
        expect(finite(t.data)).toBe(true);
      // the denoiser changed the noise
      expect(relativeError(r.latent.samples.data, r.noise.data)).toBeGreaterThan(1e-3);
      if (spec.taesd) {
        expect(r.tinyImage?.dims).toEqual([1, req.height, req.width, 3]);
        expect(finite(r.tinyImage!.data)).toBe(true);
      } else expect(r.tinyImage).toBeNull();
      const meta = await sharp(path.join(work, 'out', r.saved!)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', req.width, req.height]);
    });
  }

  it('is deterministic: a second backend gives the same bits', async () => {
    const req = { model: 'three-levels', ...cases[0]!.req, save: false };
    const a = await runPipeline(shared, req);
    const b = await runPipeline(backend(), req);
    expect(Buffer.from(b.latent.samples.data.buffer).equals(Buffer.from(a.latent.samples.data.buffer))).toBe(true);
    expect(Buffer.from(b.image.data.buffer).equals(Buffer.from(a.image.data.buffer))).toBe(true);
    expect(Buffer.from(b.tinyImage!.data.buffer).equals(Buffer.from(a.tinyImage!.data.buffer))).toBe(true);
  });

  it('reads a sharded UNet exactly as the single file, and fp16 weight files within fp16 rounding', async () => {
    const b = shared;
    const sharded = await runPipeline(b, { model: 'four-levels-sharded', ...cases[2]!.req, save: false });
    const single = await runPipeline(b, { model: 'four-levels', ...cases[2]!.req, save: false });
    expect(Array.from(sharded.latent.samples.data)).toEqual(Array.from(single.latent.samples.data));
    const half = await runPipeline(b, { model: 'two-levels-fp16', ...cases[1]!.req, save: false });
    const full = await runPipeline(b, { model: 'two-levels', ...cases[1]!.req, save: false });
    const err = relativeError(half.latent.samples.data, full.latent.samples.data);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(2e-2);
  });

  it('gives the same result with streamed weights (sequential offload) and with exact VAE tiling', async () => {
    const req = { model: 'three-levels', ...cases[0]!.req, save: false };
    const whole = await runPipeline(shared, req);
    const streamed = await runPipeline(shared, {
      ...req,
      offload: { mode: 'sequential', budgetMiB: 0 },
      tiling: { tileSize: 16, tileOverlap: 4 },
    });
    const created = Object.keys(shared.store.stats().created);
    expect(created).toEqual(expect.arrayContaining(['unet', 'vae_decoder.tiled.head']));
    expect(relativeError(streamed.latent.samples.data, whole.latent.samples.data)).toBeLessThan(1e-5);
    expect(relativeError(streamed.image.data, whole.image.data)).toBeLessThan(1e-4);
  });
});

describe('a workflow over an SDXL-family folder', () => {
  it('runs text-to-image and the tiny VAE branch through the executor', async () => {
    const wf = txt2imgWorkflow({ model: 'four-levels', size: 16, steps: 2 });
    wf.nodes.tinyModel = { type: 'loadTinyVae', params: { model: 'four-levels', device: 'cpu' }, inputs: {} };
    wf.nodes.tiny = {
      type: 'tinyVaeDecode',
      params: {},
      inputs: { taesd: { node: 'tinyModel', output: 'taesd' }, latent: { node: 'denoise', output: 'latent' } },
    };
    wf.nodes.saveTiny = {
      type: 'saveImage',
      params: { filenamePrefix: 'tiny' },
      inputs: { image: { node: 'tiny', output: 'image' } },
    };
    const result = await execute(wf, { catalog, backend: backend(), cache: new OutputCache(), emit: () => undefined });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('finished');
    expect(result.files).toHaveLength(2);
    for (const f of result.files) {
      const meta = await sharp(path.join(work, 'out', f)).metadata();
      expect([meta.width, meta.height]).toEqual([16, 16]);
    }
  });
});

describe('mismatched component configs fail at load, naming the files and fields', () => {
  const b = backend();
  let n = 0;
  /** A copy of three-levels with one config edited. */
  function variant(file: string, edit: (c: Record<string, unknown>) => void): string {
    const id = `mismatch-${n++}`;
    const dir = path.join(modelsDir, id);
    cpSync(path.join(modelsDir, 'three-levels'), dir, { recursive: true });
    const p = path.join(dir, file);
    const c = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
    edit(c);
    writeFileSync(p, JSON.stringify(c));
    return id;
  }
  const load = (model: string) =>
    b.loadModel({ model, precision: 'fp32', device: 'cpu', offload: { mode: 'none', budgetMiB: 0 } });
  // named relative to the models folder, as every client sees them (relative-paths.ts)
  const file = (model: string, rel: string) => path.join('models', model, rel).replace(/[.\\/]/g, '\\$&');

  it('UNet cross_attention_dim != text_encoder + text_encoder_2 hidden_size', async () => {
    const id = variant('unet/config.json', (c) => {
      c.cross_attention_dim = 72;
    });
    await expect(load(id)).rejects.toThrow(
      new RegExp(
        `${file(id, 'unet/config.json')}: cross_attention_dim 72 .*hidden_size 24 \\(${file(id, 'text_encoder/config.json')}\\)` +
          ` \\+ hidden_size 40 \\(${file(id, 'text_encoder_2/config.json')}\\) = 64`,
      ),
    );
  });

  it('a text encoder wider than the UNet expects', async () => {
    const id = variant('text_encoder_2/config.json', (c) => {
      c.hidden_size = 48;
    });
    await expect(load(id)).rejects.toThrow(/cross_attention_dim 64 .*hidden_size 48/);
  });

  it('projection_class_embeddings_input_dim inconsistent with text_encoder_2 projection_dim', async () => {
    const id = variant('text_encoder_2/config.json', (c) => {
      c.projection_dim = 24;
    });
    await expect(load(id)).rejects.toThrow(
      new RegExp(
        `${file(id, 'unet/config.json')}: projection_class_embeddings_input_dim 68 leaves 20 .*` +
          `${file(id, 'text_encoder_2/config.json')} has projection_dim 24`,
      ),
    );
  });

  it('VAE latent_channels != UNet in_channels', async () => {
    const id = variant('vae/config.json', (c) => {
      c.latent_channels = 8;
    });
    await expect(load(id)).rejects.toThrow(
      new RegExp(
        `${file(id, 'vae/config.json')}: latent_channels 8 .*in_channels 4 in ${file(id, 'unet/config.json')}`,
      ),
    );
  });

  it('a tiny VAE whose scale factor differs from the VAE', async () => {
    const id = variant('vae_tiny/config.json', (c) => {
      c.num_decoder_blocks = [1, 1];
      c.decoder_block_out_channels = [8, 8];
    });
    await expect(load(id)).rejects.toThrow(
      new RegExp(
        `${file(id, 'vae_tiny/config.json')}: num_decoder_blocks .* 2 pixels .*${file(id, 'vae/config.json')} give 4`,
      ),
    );
  });

  it('text encoders of different sequence lengths', async () => {
    const id = variant('text_encoder/config.json', (c) => {
      c.max_position_embeddings = 64;
    });
    await expect(load(id)).rejects.toThrow(/text_encoder\/config\.json: max_position_embeddings 64 .*text_encoder_2/);
  });

  it('a tokenizer that does not fit its text encoder (vocab_size, model_max_length) fails before encoding', async () => {
    const signal = new AbortController().signal;
    const small = variant('text_encoder/config.json', (c) => {
      c.vocab_size = 1000;
    });
    const { clip } = await load(small);
    await expect(b.encodePrompt(clip, 'a cat', null, signal)).rejects.toThrow(
      new RegExp(
        `${file(small, 'tokenizer/vocab.json')}: 49408 token ids .*vocab_size 1000 in ${file(small, 'text_encoder/config.json')}`,
      ),
    );
    const long = variant('tokenizer_2/tokenizer_config.json', (c) => {
      c.model_max_length = 96;
    });
    const { clip: clip2 } = await load(long);
    await expect(b.encodePrompt(clip2, 'a cat', null, signal)).rejects.toThrow(
      /tokenizer_2\/tokenizer_config\.json: model_max_length 96 .*max_position_embeddings 77 in .*text_encoder_2\/config\.json/,
    );
  });

  it('none of them built or ran a session', () => {
    expect(existsSync(path.join(modelsDir, 'mismatch-0'))).toBe(true);
    expect(b.store.stats().created).toEqual({});
  });
});
