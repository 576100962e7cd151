import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ModelSource } from '../../backend/model-source.ts';
import { type SyntheticConfigName, syntheticModel } from '../synthetic-model.ts';

// The built-in test model: SDXL architecture, small, deterministic synthetic weights. Its images are noise.

export const DEFAULT_MODEL_ID = 'default';
const VERSION = 2;

function config(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./config/${name}`, import.meta.url), 'utf8'));
}

const CONFIG_FILES: Record<SyntheticConfigName, string> = {
  text_encoder: 'text_encoder.json',
  text_encoder_2: 'text_encoder_2.json',
  unet: 'unet.json',
  vae: 'vae.json',
  vae_tiny: 'vae_tiny.json',
  scheduler: 'scheduler_config.json',
  tokenizer: 'tokenizer_config.json',
  tokenizer_2: 'tokenizer_2_config.json',
};

// model_index.json + the configs, in one fixed order: their hash names the weights in cache keys.
const configFiles = ['model_index.json', ...Object.values(CONFIG_FILES)];

let cached: ModelSource | undefined;

/** The default model (configs in ./config, weights synthesised on demand). */
export function defaultModel(): ModelSource {
  cached ??= createDefaultModel();
  return cached;
}

function createDefaultModel(): ModelSource {
  const configsHash = createHash('sha256');
  for (const f of configFiles) configsHash.update(JSON.stringify(config(f)));
  return syntheticModel({
    info: { id: DEFAULT_MODEL_ID, label: 'Built-in test model (random weights: images are noise)', isTestModel: true },
    config: (name) => {
      const file = CONFIG_FILES[name];
      return { json: config(file), file: `default-model/config/${file}` };
    },
    keyPrefix: `builtin-default-v${VERSION}-${configsHash.digest('hex').slice(0, 16)}`,
    weightsLabel: 'built-in default model',
    tokenizerLabel: 'default',
  });
}
