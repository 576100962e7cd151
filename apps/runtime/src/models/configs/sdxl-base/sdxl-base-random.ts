import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelInfo } from '@sdflow/nodes/values.ts';
import type {
  BuildRequest,
  ComponentName,
  ComponentSource,
  ModelSource,
  TaesdSource,
} from '../../../backend/model-source.ts';
import { buildClipText } from '../../../onnx/builders/clip-text.ts';
import { parseTaesdConfig } from '../../../onnx/builders/taesd-config.ts';
import { buildTaesdDecoder, taesdScaleFactor } from '../../../onnx/builders/taesd-decoder.ts';
import { buildUnet } from '../../../onnx/builders/unet.ts';
import { buildUnetStages } from '../../../onnx/builders/unet-stages.ts';
import { parseVaeConfig, vaeScaleFactor } from '../../../onnx/builders/vae-config.ts';
import { buildVaeDecoder } from '../../../onnx/builders/vae-decoder.ts';
import type { BuiltModel } from '../../../onnx/built-model.ts';
import type { OnnxPath } from '../../../onnx/session.ts';
import { parseSchedulerConfig } from '../../../sdxl/schedulers/scheduler-config.ts';
import { ClipTokenizer, TokenizerConfig } from '../../../sdxl/tokenizer.ts';
import { defaultClipVocab } from '../../default-model/clip-bpe-vocab.ts';
import { writeBuilt } from '../../export.ts';
import { SyntheticSource } from '../../synthetic-weights.ts';

// "sdxl-base-random": stabilityai/stable-diffusion-xl-base-1.0's architecture (this folder's configs) with
// synthetic weights, for benchmarks: same shapes, same compute as the real model; its images are noise.
// SDFLOW_BUILD_CACHE=<dir> keeps each built graph on disk so later processes skip the multi-GB build.

export const SDXL_BASE_RANDOM_ID = 'sdxl-base-random';
export const SDXL_BASE_DIR = fileURLToPath(new URL('./', import.meta.url));

const SEEDS: Record<ComponentName, number> = {
  unet: 0,
  vae_decoder: 1,
  text_encoder: 2,
  text_encoder_2: 3,
  taesd_decoder: 4,
};

export function sdxlBaseRandomModel(configDir = process.env.SDFLOW_SDXL_BASE_CONFIGS ?? SDXL_BASE_DIR): ModelSource {
  const config = (file: string): unknown => JSON.parse(readFileSync(join(configDir, file), 'utf8'));
  const weights = (name: ComponentName) =>
    new SyntheticSource({ seed: SEEDS[name], description: `${SDXL_BASE_RANDOM_ID} ${name}` });
  const cacheDir = process.env.SDFLOW_BUILD_CACHE;
  const component = (name: ComponentName, build: (req: BuildRequest) => BuiltModel): ComponentSource => ({
    name,
    weightsKey: `${SDXL_BASE_RANDOM_ID}-v2-${name}`,
    build: (req) =>
      cacheDir
        ? cachedBuild(join(cacheDir, `${SDXL_BASE_RANDOM_ID}-${name}-${req.precision}-${req.target}`), () => build(req))
        : build(req),
  });
  const unetConfig = config('unet/config.json');
  const vaeRaw = config('vae/config.json');
  const vae = parseVaeConfig(vaeRaw, join(configDir, 'vae/config.json'));
  const taesdRaw = config('vae_tiny/config.json');
  const taesdConfig = parseTaesdConfig(taesdRaw, join(configDir, 'vae_tiny/config.json'));
  const taesd: TaesdSource = {
    id: SDXL_BASE_RANDOM_ID,
    decoder: component('taesd_decoder', (req) => buildTaesdDecoder(taesdRaw, weights('taesd_decoder'), req)),
    scalingFactor: taesdConfig.scaling_factor,
    shiftFactor: taesdConfig.shift_factor,
    scaleFactor: taesdScaleFactor(taesdConfig),
    latentChannels: taesdConfig.latent_channels,
  };
  const info: ModelInfo = {
    id: SDXL_BASE_RANDOM_ID,
    label: 'SDXL base architecture, random weights (benchmarks; images are noise)',
    isTestModel: true,
    vaeScaleFactor: vaeScaleFactor(vae),
    latentChannels: vae.latent_channels,
    vaeScalingFactor: vae.scaling_factor,
    hasTinyVae: true,
  };
  let tokenizers: { tokenizer: ClipTokenizer; tokenizer2: ClipTokenizer } | undefined;
  return {
    info,
    forceZerosForEmptyPrompt: true,
    schedulerConfig: parseSchedulerConfig(
      config('scheduler/scheduler_config.json'),
      join(configDir, 'scheduler/scheduler_config.json'),
    ),
    vaeShiftFactor: 0,
    tokenizers: () => {
      if (!tokenizers) {
        const { vocab, merges } = defaultClipVocab();
        const tok = (dir: string) =>
          new ClipTokenizer(
            vocab,
            merges,
            TokenizerConfig.parse(config(`${dir}/tokenizer_config.json`)),
            `${SDXL_BASE_RANDOM_ID} ${dir}`,
          );
        tokenizers = { tokenizer: tok('tokenizer'), tokenizer2: tok('tokenizer_2') };
      }
      return tokenizers;
    },
    clipWeightsKey: `${SDXL_BASE_RANDOM_ID}-v2-clip`,
    textEncoder: component('text_encoder', (req) =>
      buildClipText(config('text_encoder/config.json'), weights('text_encoder'), { ...req, withProjection: false }),
    ),
    textEncoder2: component('text_encoder_2', (req) =>
      buildClipText(config('text_encoder_2/config.json'), weights('text_encoder_2'), { ...req, withProjection: true }),
    ),
    unet: component('unet', (req) => buildUnet(unetConfig, weights('unet'), req)),
    vaeDecoder: component('vae_decoder', (req) => buildVaeDecoder(vaeRaw, weights('vae_decoder'), req)),
    unetStages: (req) => buildUnetStages(unetConfig, weights('unet'), req),
    taesd,
    vaeTiling: { config: vaeRaw, file: join(configDir, 'vae/config.json'), weights: () => weights('vae_decoder') },
  };
}

/** The graph from dir/model.onnx when an earlier process built it, else built now and written there. */
function cachedBuild(dir: string, build: () => BuiltModel): BuiltModel | OnnxPath {
  const modelPath = join(dir, 'model.onnx');
  if (existsSync(modelPath)) return { modelPath };
  const built = build();
  const tmp = `${dir}.partial-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  writeBuilt(built, tmp);
  renameSync(tmp, dir); // only complete builds become visible to later processes
  return built;
}
