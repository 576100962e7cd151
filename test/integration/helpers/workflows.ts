import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';

// Small text-to-image workflows on the tiny fixture (VAE factor 2: 32x32 images, 16x16 latents).

export interface Txt2ImgOptions {
  readonly model?: string;
  readonly prompt?: string;
  readonly steps?: number;
  readonly size?: number;
  readonly seed?: number;
  /** Wire an Offload Policy node into Load Model. */
  readonly offload?: 'none' | 'model' | 'sequential';
  /** Cache Embeddings instead of Encode Prompt. */
  readonly cacheEmbeddings?: boolean;
  readonly previewMethod?: 'none' | 'latent2rgb' | 'taesd';
  readonly prefix?: string;
}

export function txt2img(o: Txt2ImgOptions = {}): Workflow {
  const seed = o.seed ?? 7;
  const size = o.size ?? 32;
  const nodes: Workflow['nodes'] = {
    model: {
      type: 'loadModel',
      params: { model: o.model ?? 'tiny', precision: 'fp32', device: 'cpu' },
      inputs: o.offload ? { offload: { node: 'offload', output: 'policy' } } : {},
    },
    prompt: {
      type: o.cacheEmbeddings ? 'cacheEmbeddings' : 'encodePrompt',
      params: { prompt: o.prompt ?? 'a red fox in the snow', negativePrompt: '' },
      inputs: { clip: { node: 'model', output: 'clip' } },
    },
    latent: {
      type: 'emptyLatent',
      params: { width: size, height: size, batchSize: 1, seed },
      inputs: { vae: { node: 'model', output: 'vae' } },
    },
    denoise: {
      type: 'unetDenoise',
      params: {
        steps: o.steps ?? 3,
        cfg: 5,
        scheduler: 'euler',
        seed,
        previewMethod: o.previewMethod ?? 'latent2rgb',
        previewEvery: 1,
      },
      inputs: {
        unet: { node: 'model', output: 'unet' },
        conditioning: { node: 'prompt', output: 'conditioning' },
        latent: { node: 'latent', output: 'latent' },
      },
    },
    decode: {
      type: 'vaeDecode',
      params: {},
      inputs: { vae: { node: 'model', output: 'vae' }, latent: { node: 'denoise', output: 'latent' } },
    },
    save: {
      type: 'saveImage',
      params: { filenamePrefix: o.prefix ?? 'it' },
      inputs: { image: { node: 'decode', output: 'image' } },
    },
  };
  if (o.offload) nodes.offload = { type: 'offloadPolicy', params: { mode: o.offload, budgetMiB: 0 }, inputs: {} };
  return {
    version: 1,
    meta: { name: 'integration txt2img' },
    nodes,
    ui: { nodes: { model: { x: 0, y: 0 }, prompt: { x: 300, y: 0 } }, groups: [], notes: [] },
  };
}
