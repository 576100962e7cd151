import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';

// A small text-to-image workflow over the real catalog, for executor, engine, server and integration tests.

export interface Txt2ImgOptions {
  readonly model?: string;
  readonly precision?: 'fp32' | 'fp16';
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
  readonly name?: string;
}

export function txt2imgWorkflow(o: Txt2ImgOptions = {}): Workflow {
  const size = o.size ?? 64;
  const seed = o.seed ?? 42;
  const nodes: Workflow['nodes'] = {
    model: {
      type: 'loadModel',
      params: { model: o.model ?? 'default', ...(o.precision ? { precision: o.precision } : {}), device: 'cpu' },
      inputs: o.offload ? { offload: { node: 'offload', output: 'policy' } } : {},
    },
    prompt: {
      type: o.cacheEmbeddings ? 'cacheEmbeddings' : 'encodePrompt',
      params: { prompt: o.prompt ?? 'a lighthouse at dusk', negativePrompt: '' },
      inputs: { clip: { node: 'model', output: 'clip' } },
    },
    latent: {
      type: 'emptyLatent',
      params: { width: size, height: size, batchSize: 1, seed },
      inputs: { vae: { node: 'model', output: 'vae' } },
    },
    denoise: {
      type: 'unetDenoise',
      params: { steps: o.steps ?? 4, cfg: 5, scheduler: 'euler', seed, previewMethod: o.previewMethod ?? 'latent2rgb' },
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
      params: { filenamePrefix: o.prefix ?? 'test' },
      inputs: { image: { node: 'decode', output: 'image' } },
    },
  };
  if (o.offload) nodes.offload = { type: 'offloadPolicy', params: { mode: o.offload, budgetMiB: 0 }, inputs: {} };
  return { version: 1, meta: { name: o.name ?? 'test txt2img' }, nodes };
}
