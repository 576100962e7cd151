import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DenoiseRequest, SdxlBackend, VaeDecodeRequest } from '@sdflow/nodes/backend.ts';
import { type Tensor, tensor, tensorSize } from '@sdflow/nodes/tensor.ts';
import type {
  Conditioning,
  Device,
  Images,
  Latent,
  ModelHandle,
  ModelInfo,
  OffloadPolicy,
} from '@sdflow/nodes/values.ts';

// TEST DOUBLE, for executor semantics only (ordering, caching, abort, failure): tiny tensors, no ONNX.
// Each denoise step busy-waits synchronously, the way onnxruntime's session.run holds the thread.

export interface FakeBackendOptions {
  /** Milliseconds each denoise step holds the thread. */
  readonly stepMs?: number;
  /** Where saveImage writes its (placeholder) files; nothing is written when absent. */
  readonly outputDir?: string;
}

export interface FakeCounters {
  loadModel: number;
  encodePrompt: number;
  denoiseSteps: number;
  vaeDecode: number;
  saveImage: number;
}

/** encodePrompt with this prompt ends the (worker) thread, to test recovery from a crashed backend. */
export const EXIT_PROMPT = 'fake-backend: exit the thread';

const MODEL: ModelInfo = {
  id: 'fake',
  label: 'fake test double',
  isTestModel: true,
  vaeScaleFactor: 8,
  latentChannels: 4,
  vaeScalingFactor: 0.13025,
  hasTinyVae: false,
};

function handle<K extends 'clip' | 'unet' | 'vae' | 'taesd'>(
  kind: K,
  device: Device,
  offload: OffloadPolicy,
): ModelHandle<K> {
  return { kind, model: MODEL, precision: 'fp32', device, offload, weightsKey: `fake-${kind}` };
}

function holdThread(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy-wait: a stand-in for a synchronous native call
  }
}

function filled(dims: readonly number[], value: number): Tensor {
  return tensor(dims, new Float32Array(tensorSize(dims)).fill(value));
}

export function createFakeBackend(opts: FakeBackendOptions = {}): SdxlBackend & { counters(): FakeCounters } {
  const stepMs = opts.stepMs ?? 1;
  const counters: FakeCounters = { loadModel: 0, encodePrompt: 0, denoiseSteps: 0, vaeDecode: 0, saveImage: 0 };
  let saved = 0;
  const encode = (prompt: string): Conditioning => {
    if (prompt === EXIT_PROMPT) process.exit(70);
    counters.encodePrompt++;
    const v = prompt.length / 100;
    return {
      promptEmbeds: filled([1, 77, 8], v),
      pooledPromptEmbeds: filled([1, 8], v),
      negativePromptEmbeds: filled([1, 77, 8], 0),
      negativePooledPromptEmbeds: filled([1, 8], 0),
    };
  };
  return {
    counters: () => ({ ...counters }),
    async loadModel(req) {
      counters.loadModel++;
      const device: Device = req.device === 'auto' ? 'cpu' : req.device;
      return {
        clip: handle('clip', device, req.offload),
        unet: handle('unet', device, req.offload),
        vae: handle('vae', device, req.offload),
        taesd: null,
      };
    },
    async loadTinyVae(req) {
      return handle('taesd', req.device === 'auto' ? 'cpu' : req.device, { mode: 'none', budgetMiB: 0 });
    },
    async encodePrompt(_clip, prompt, _negative, signal) {
      signal.throwIfAborted();
      return encode(prompt);
    },
    async cachedEncodePrompt(_clip, prompt, _negative, signal) {
      signal.throwIfAborted();
      return { conditioning: encode(prompt), hit: false };
    },
    randn(dims, seed) {
      const t = filled(dims, 0);
      for (let i = 0; i < t.data.length; i++) t.data[i] = Math.sin(seed + i);
      return t;
    },
    async denoise(req: DenoiseRequest): Promise<Latent> {
      const data = Float32Array.from(req.latent.samples.data);
      for (let step = 1; step <= req.steps; step++) {
        req.signal.throwIfAborted();
        holdThread(stepMs);
        for (let i = 0; i < data.length; i++) data[i] = data[i]! * 0.9 + req.cfg * 0.01;
        counters.denoiseSteps++;
        req.onStep({ step, total: req.steps });
        if (req.preview.method !== 'none' && step % req.preview.every === 0) {
          const [, , h = 1, w = 1] = req.latent.samples.dims;
          req.onPreview({ images: filled([1, h, w, 3], step / req.steps) });
        }
      }
      return { samples: tensor(req.latent.samples.dims, data), kind: 'image' };
    },
    async vaeDecode(req: VaeDecodeRequest): Promise<Images> {
      req.signal.throwIfAborted();
      counters.vaeDecode++;
      const [b = 1, , h = 1, w = 1] = req.latent.samples.dims;
      req.onProgress(1, 1);
      return { images: filled([b, h * 8, w * 8, 3], 0.5) };
    },
    async tinyVaeDecode(_taesd, latent, signal) {
      signal.throwIfAborted();
      const [b = 1, , h = 1, w = 1] = latent.samples.dims;
      return { images: filled([b, h * 8, w * 8, 3], 0.5) };
    },
    async saveImage(_image, index, prefix) {
      counters.saveImage++;
      const name = `${prefix}_${String(++saved).padStart(5, '0')}_${index}.png`;
      if (opts.outputDir) {
        mkdirSync(opts.outputDir, { recursive: true });
        writeFileSync(path.join(opts.outputDir, name), 'fake');
      }
      return name;
    },
    async saveLatent(_latent, prefix) {
      return `${prefix}_${String(++saved).padStart(5, '0')}.safetensors`;
    },
    async loadLatent(name) {
      throw new Error(`fake backend: cannot load latent "${name}"`);
    },
    async vaeEncode(req) {
      req.signal.throwIfAborted();
      const [b = 1, h = 8, w = 8] = req.image.images.dims;
      req.onProgress(1, 1);
      return { samples: filled([b, 4, Math.ceil(h / 8), Math.ceil(w / 8)], 0.1), kind: 'image' };
    },
    async loadImage(req) {
      throw new Error(`fake backend: cannot load image "${req.file}"`);
    },
    async loadMask(req) {
      throw new Error(`fake backend: cannot load mask "${req.file}"`);
    },
  };
}
