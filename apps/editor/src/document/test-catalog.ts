import { type Catalog, makeCatalog } from '../catalog/catalog.ts';

// A small catalogue in the runtime's JSON shape, for unit tests only (the app always asks the runtime).

export const TEST_CATALOG_JSON = {
  version: 'test-1',
  nodeTypes: [
    {
      type: 'loadModel',
      version: 1,
      title: 'Load Model',
      category: 'model',
      description: 'Loads a diffusers SDXL folder',
      params: {
        type: 'object',
        properties: {
          model: { type: 'string', default: 'default', widget: 'model' },
          precision: { type: 'string', enum: ['auto', 'fp32', 'fp16'], default: 'auto' },
        },
      },
      inputs: { offload: { type: 'OFFLOAD', optional: true } },
      outputs: { unet: { type: 'UNET' }, clip: { type: 'CLIP' }, vae: { type: 'VAE' } },
    },
    {
      type: 'encodePrompt',
      version: 1,
      title: 'Encode Prompt',
      category: 'conditioning',
      description: 'Prompt to conditioning',
      params: {
        type: 'object',
        properties: {
          prompt: { type: 'string', default: '', widget: 'textarea' },
          negativePrompt: { type: 'string', default: '' },
        },
      },
      inputs: { clip: { type: 'CLIP' } },
      outputs: { conditioning: { type: 'CONDITIONING' } },
    },
    {
      type: 'emptyLatent',
      version: 1,
      title: 'Empty Latent',
      category: 'latent',
      description: 'Noise',
      params: {
        type: 'object',
        properties: {
          width: { type: 'integer', minimum: 64, maximum: 4096, multipleOf: 8, default: 1024 },
          height: { type: 'integer', minimum: 64, maximum: 4096, multipleOf: 8, default: 1024 },
          seed: { type: 'integer', default: 0, widget: 'seed' },
        },
      },
      inputs: { vae: { type: 'VAE' } },
      outputs: { latent: { type: 'LATENT' } },
    },
    {
      type: 'unetDenoise',
      version: 1,
      title: 'UNet Denoise',
      category: 'sampling',
      description: 'Denoise',
      params: {
        type: 'object',
        properties: {
          steps: { type: 'integer', minimum: 1, maximum: 200, default: 30 },
          cfg: { type: 'number', minimum: 0, maximum: 30, default: 5, widget: 'slider' },
          scheduler: { type: 'string', enum: ['euler', 'ddim'], default: 'euler' },
        },
      },
      inputs: {
        unet: { type: 'UNET' },
        conditioning: { type: 'CONDITIONING' },
        latent: { type: 'LATENT' },
        previewDecoder: { type: 'TAESD', optional: true },
      },
      outputs: { latent: { type: 'LATENT' } },
    },
    {
      type: 'vaeDecode',
      version: 1,
      title: 'VAE Decode',
      category: 'image',
      description: 'Latent to image',
      params: { type: 'object', properties: { tiling: { type: 'boolean', default: false } } },
      inputs: { vae: { type: 'VAE' }, latent: { type: 'LATENT' } },
      outputs: { image: { type: 'IMAGE' } },
    },
    {
      type: 'saveImage',
      version: 1,
      title: 'Save Image',
      category: 'image',
      description: 'PNG with the workflow',
      params: { type: 'object', properties: { filenamePrefix: { type: 'string', default: 'sdflow' } } },
      inputs: { image: { type: 'IMAGE' } },
      outputs: {},
      isOutput: true,
    },
  ],
};

export const TEST_CATALOG: Catalog = makeCatalog(TEST_CATALOG_JSON);
