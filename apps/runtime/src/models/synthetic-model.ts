import type { ModelInfo } from '@sdflow/nodes/values.ts';
import type {
  BuildRequest,
  ComponentName,
  ComponentSource,
  ModelSource,
  TaesdSource,
} from '../backend/model-source.ts';
import { buildClipText } from '../onnx/builders/clip-text.ts';
import { parseTaesdConfig } from '../onnx/builders/taesd-config.ts';
import { buildTaesdDecoder, taesdScaleFactor } from '../onnx/builders/taesd-decoder.ts';
import { buildUnet } from '../onnx/builders/unet.ts';
import { parseVaeConfig, vaeScaleFactor } from '../onnx/builders/vae-config.ts';
import { buildVaeDecoder } from '../onnx/builders/vae-decoder.ts';
import { buildVaeEncoder } from '../onnx/builders/vae-encoder.ts';
import type { BuiltModel } from '../onnx/built-model.ts';
import { parseSchedulerConfig } from '../sdxl/schedulers/scheduler-config.ts';
import { ClipTokenizer, TokenizerConfig } from '../sdxl/tokenizer.ts';
import { defaultClipVocab } from './default-model/clip-bpe-vocab.ts';
import { SyntheticSource } from './synthetic-weights.ts';

// A ModelSource from SDXL configs plus deterministic synthetic weights: the built-in test model and the
// full-size benchmark model differ only in where their configs live and how they are named.

export type SyntheticConfigName =
  | 'text_encoder'
  | 'text_encoder_2'
  | 'unet'
  | 'vae'
  | 'vae_tiny'
  | 'scheduler'
  | 'tokenizer'
  | 'tokenizer_2';

export interface SyntheticModelSpec {
  readonly info: Omit<ModelInfo, 'vaeScaleFactor' | 'latentChannels' | 'vaeScalingFactor' | 'hasTinyVae'>;
  /** Reads a config (parsed JSON) and names its file for errors. */
  config(name: SyntheticConfigName): { readonly json: unknown; readonly file: string };
  /** Weight keys are `${keyPrefix}-${component}` and `${keyPrefix}-clip`. */
  readonly keyPrefix: string;
  /** Names the synthetic weights in errors: `${weightsLabel} ${component}`. */
  readonly weightsLabel: string;
  /** Names the tokenizers in errors: `${tokenizerLabel} tokenizer`, `... tokenizer_2`. */
  readonly tokenizerLabel: string;
  /** Optional wrapper around each component build (e.g. an on-disk graph cache). */
  wrapBuild?(name: ComponentName, build: (req: BuildRequest) => BuiltModel): ComponentSource['build'];
}

const SEEDS: Record<ComponentName, number> = {
  unet: 0,
  vae_decoder: 1,
  vae_encoder: 1, // the same VAE as the decoder's (its encoder.* tensors)
  text_encoder: 2,
  text_encoder_2: 3,
  taesd_decoder: 4,
};

export function syntheticModel(spec: SyntheticModelSpec): ModelSource {
  const weights = (name: ComponentName) =>
    new SyntheticSource({ seed: SEEDS[name], description: `${spec.weightsLabel} ${name}` });
  const component = (name: ComponentName, build: (req: BuildRequest) => BuiltModel): ComponentSource => ({
    name,
    weightsKey: `${spec.keyPrefix}-${name}`,
    build: spec.wrapBuild ? spec.wrapBuild(name, build) : build,
  });
  const unet = spec.config('unet').json;
  const vaeFile = spec.config('vae');
  const vae = parseVaeConfig(vaeFile.json, vaeFile.file);
  const taesdFile = spec.config('vae_tiny');
  const taesdConfig = parseTaesdConfig(taesdFile.json, taesdFile.file);
  const taesd: TaesdSource = {
    id: spec.info.id,
    decoder: component('taesd_decoder', (req) => buildTaesdDecoder(taesdFile.json, weights('taesd_decoder'), req)),
    scalingFactor: taesdConfig.scaling_factor,
    shiftFactor: taesdConfig.shift_factor,
    scaleFactor: taesdScaleFactor(taesdConfig),
    latentChannels: taesdConfig.latent_channels,
  };
  const scheduler = spec.config('scheduler');
  let tokenizers: { tokenizer: ClipTokenizer; tokenizer2: ClipTokenizer } | undefined;
  return {
    info: {
      ...spec.info,
      vaeScaleFactor: vaeScaleFactor(vae),
      latentChannels: vae.latent_channels,
      vaeScalingFactor: vae.scaling_factor,
      hasTinyVae: true,
    },
    forceZerosForEmptyPrompt: true,
    schedulerConfig: parseSchedulerConfig(scheduler.json, scheduler.file),
    vaeShiftFactor: 0,
    tokenizers: () => {
      if (!tokenizers) {
        const { vocab, merges } = defaultClipVocab();
        const tok = (dir: 'tokenizer' | 'tokenizer_2') =>
          new ClipTokenizer(
            vocab,
            merges,
            TokenizerConfig.parse(spec.config(dir).json),
            `${spec.tokenizerLabel} ${dir}`,
          );
        tokenizers = { tokenizer: tok('tokenizer'), tokenizer2: tok('tokenizer_2') };
      }
      return tokenizers;
    },
    clipWeightsKey: `${spec.keyPrefix}-clip`,
    textEncoder: component('text_encoder', (req) =>
      buildClipText(spec.config('text_encoder').json, weights('text_encoder'), { ...req, withProjection: false }),
    ),
    textEncoder2: component('text_encoder_2', (req) =>
      buildClipText(spec.config('text_encoder_2').json, weights('text_encoder_2'), { ...req, withProjection: true }),
    ),
    unet: component('unet', (req) => buildUnet(unet, weights('unet'), req)),
    vaeDecoder: component('vae_decoder', (req) => buildVaeDecoder(vaeFile.json, weights('vae_decoder'), req)),
    vaeEncoder: component('vae_encoder', (req) => buildVaeEncoder(vaeFile.json, weights('vae_encoder'), req)),
    taesd,
    vaeTiling: { config: vaeFile.json, file: vaeFile.file, weights: () => weights('vae_decoder') },
  };
}
