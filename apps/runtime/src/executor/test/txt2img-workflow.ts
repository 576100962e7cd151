import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';

// A small text-to-image workflow over the real catalog, for executor and engine tests.
export function txt2imgWorkflow(
  opts: { steps?: number; prompt?: string; size?: number; model?: string } = {},
): Workflow {
  const size = opts.size ?? 64;
  return {
    version: 1,
    meta: { name: 'test txt2img' },
    nodes: {
      model: { type: 'loadModel', params: { model: opts.model ?? 'default', device: 'cpu' }, inputs: {} },
      prompt: {
        type: 'encodePrompt',
        params: { prompt: opts.prompt ?? 'a lighthouse at dusk', negativePrompt: '' },
        inputs: { clip: { node: 'model', output: 'clip' } },
      },
      latent: {
        type: 'emptyLatent',
        params: { width: size, height: size, batchSize: 1, seed: 42 },
        inputs: { vae: { node: 'model', output: 'vae' } },
      },
      denoise: {
        type: 'unetDenoise',
        params: { steps: opts.steps ?? 4, cfg: 5, scheduler: 'euler', seed: 42, previewMethod: 'latent2rgb' },
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
        params: { filenamePrefix: 'test' },
        inputs: { image: { node: 'decode', output: 'image' } },
      },
    },
  };
}
