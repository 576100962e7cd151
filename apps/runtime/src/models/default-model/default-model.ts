import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ModelInfo } from '@sdflow/nodes/values.ts';
import type { ComponentName, ComponentSource, ModelSource, TaesdSource } from '../../backend/model-source.ts';
import { buildClipText } from '../../onnx/builders/clip-text.ts';
import { parseTaesdConfig } from '../../onnx/builders/taesd-config.ts';
import { buildTaesdDecoder, taesdScaleFactor } from '../../onnx/builders/taesd-decoder.ts';
import { buildUnet } from '../../onnx/builders/unet.ts';
import { buildUnetStages } from '../../onnx/builders/unet-stages.ts';
import { parseVaeConfig, vaeScaleFactor } from '../../onnx/builders/vae-config.ts';
import { buildVaeDecoder } from '../../onnx/builders/vae-decoder.ts';
import { parseSchedulerConfig } from '../../sdxl/schedulers/scheduler-config.ts';
import { ClipTokenizer, TokenizerConfig } from '../../sdxl/tokenizer.ts';
import { SyntheticSource } from '../synthetic-weights.ts';
import { defaultClipVocab } from './clip-bpe-vocab.ts';

// The built-in test model: SDXL architecture, small, deterministic synthetic weights. Its images are noise.

export const DEFAULT_MODEL_ID = 'default';
const VERSION = 2;

function config(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./config/${name}`, import.meta.url), 'utf8'));
}

const SEEDS: Record<ComponentName, number> = {
  unet: 0,
  vae_decoder: 1,
  text_encoder: 2,
  text_encoder_2: 3,
  taesd_decoder: 4,
};

const configFiles = [
  'model_index.json',
  'text_encoder.json',
  'text_encoder_2.json',
  'unet.json',
  'vae.json',
  'vae_tiny.json',
  'scheduler_config.json',
  'tokenizer_config.json',
  'tokenizer_2_config.json',
];

let cached: ModelSource | undefined;

/** The default model (configs in ./config, weights synthesised on demand). */
export function defaultModel(): ModelSource {
  cached ??= createDefaultModel();
  return cached;
}

function createDefaultModel(): ModelSource {
  const configsHash = createHash('sha256');
  for (const f of configFiles) configsHash.update(JSON.stringify(config(f)));
  const baseKey = `builtin-default-v${VERSION}-${configsHash.digest('hex').slice(0, 16)}`;
  const weights = (name: ComponentName) =>
    new SyntheticSource({ seed: SEEDS[name], description: `built-in default model ${name}` });
  const component = (name: ComponentName, build: ComponentSource['build']): ComponentSource => ({
    name,
    weightsKey: `${baseKey}-${name}`,
    build,
  });
  const unetConfig = config('unet.json');
  const vaeConfig = parseVaeConfig(config('vae.json'), 'default-model/config/vae.json');
  const taesdConfigRaw = config('vae_tiny.json');
  const taesdConfig = parseTaesdConfig(taesdConfigRaw, 'default-model/config/vae_tiny.json');
  const taesd: TaesdSource = {
    id: DEFAULT_MODEL_ID,
    decoder: component('taesd_decoder', (req) => buildTaesdDecoder(taesdConfigRaw, weights('taesd_decoder'), req)),
    scalingFactor: taesdConfig.scaling_factor,
    shiftFactor: taesdConfig.shift_factor,
    scaleFactor: taesdScaleFactor(taesdConfig),
    latentChannels: taesdConfig.latent_channels,
  };
  const info: ModelInfo = {
    id: DEFAULT_MODEL_ID,
    label: 'Built-in test model (random weights: images are noise)',
    isTestModel: true,
    vaeScaleFactor: vaeScaleFactor(vaeConfig),
    latentChannels: vaeConfig.latent_channels,
    vaeScalingFactor: vaeConfig.scaling_factor,
    hasTinyVae: true,
  };
  let tokenizers: { tokenizer: ClipTokenizer; tokenizer2: ClipTokenizer } | undefined;
  return {
    info,
    forceZerosForEmptyPrompt: true,
    schedulerConfig: parseSchedulerConfig(
      config('scheduler_config.json'),
      'default-model/config/scheduler_config.json',
    ),
    vaeShiftFactor: 0,
    tokenizers: () => {
      if (!tokenizers) {
        const { vocab, merges } = defaultClipVocab();
        tokenizers = {
          tokenizer: new ClipTokenizer(
            vocab,
            merges,
            TokenizerConfig.parse(config('tokenizer_config.json')),
            'default tokenizer',
          ),
          tokenizer2: new ClipTokenizer(
            vocab,
            merges,
            TokenizerConfig.parse(config('tokenizer_2_config.json')),
            'default tokenizer_2',
          ),
        };
      }
      return tokenizers;
    },
    clipWeightsKey: `${baseKey}-clip`,
    textEncoder: component('text_encoder', (req) =>
      buildClipText(config('text_encoder.json'), weights('text_encoder'), { ...req, withProjection: false }),
    ),
    textEncoder2: component('text_encoder_2', (req) =>
      buildClipText(config('text_encoder_2.json'), weights('text_encoder_2'), { ...req, withProjection: true }),
    ),
    unet: component('unet', (req) => buildUnet(unetConfig, weights('unet'), req)),
    vaeDecoder: component('vae_decoder', (req) => buildVaeDecoder(config('vae.json'), weights('vae_decoder'), req)),
    unetStages: (req) => buildUnetStages(unetConfig, weights('unet'), req),
    taesd,
    vaeTiling: {
      config: config('vae.json'),
      file: 'default-model/config/vae.json',
      weights: () => weights('vae_decoder'),
    },
  };
}
