import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelInfo } from '@sdflow/nodes/values.ts';
import { type ComponentFolder, component, type OnnxFile, openSdxlFolder } from '../models/diffusers-folder.ts';
import { buildClipText } from '../onnx/builders/clip-text.ts';
import { parseTaesdConfig } from '../onnx/builders/taesd-config.ts';
import { buildTaesdDecoder, taesdScaleFactor } from '../onnx/builders/taesd-decoder.ts';
import { buildUnet } from '../onnx/builders/unet.ts';
import { vaeScaleFactor } from '../onnx/builders/vae-config.ts';
import { buildVaeDecoder } from '../onnx/builders/vae-decoder.ts';
import { buildVaeEncoder } from '../onnx/builders/vae-encoder.ts';
import { parseSchedulerConfig } from '../sdxl/schedulers/scheduler-config.ts';
import { ClipTokenizer } from '../sdxl/tokenizer.ts';
import type { BuildRequest, ComponentName, ComponentSource, ModelSource, TaesdSource } from './model-source.ts';
import { combineKeys, folderWeightsKey } from './weights-key.ts';

// A diffusers SDXL folder as a ModelSource: graphs are built from config.json + safetensors, or an export is used.

function folderComponent(
  name: ComponentName,
  c: ComponentFolder,
  build: (weights: ReturnType<ComponentFolder['weights']>, req: BuildRequest) => ReturnType<ComponentSource['build']>,
): ComponentSource {
  return {
    name,
    weightsKey: folderWeightsKey(c.dir),
    build: (req) => {
      if (c.onnx?.meta) return { modelPath: c.onnx.modelPath };
      return build(c.weights(req.precision === 'fp16' ? { variant: 'fp16' } : {}), req);
    },
  };
}

export function taesdFromFolder(id: string, dir: string): TaesdSource {
  const c = component(path.dirname(dir), path.basename(dir));
  const config = parseTaesdConfig(c.config, c.configPath);
  return {
    id,
    decoder: folderComponent('taesd_decoder', c, (w, req) =>
      buildTaesdDecoder(c.config, w, { precision: req.precision, target: req.target }),
    ),
    scalingFactor: config.scaling_factor,
    shiftFactor: config.shift_factor,
    scaleFactor: taesdScaleFactor(config),
    latentChannels: config.latent_channels,
  };
}

export function openFolderModel(id: string, root: string): ModelSource {
  const folder = openSdxlFolder(root);
  const vaeConfig = folder.vae.vaeConfig;
  const schedulerConfig = parseSchedulerConfig(
    JSON.parse(readFileSync(folder.schedulerConfigPath, 'utf8')),
    folder.schedulerConfigPath,
  );
  const taesd = folder.vaeTiny ? taesdFromFolder(`${id}/vae_tiny`, folder.vaeTiny.dir) : null;
  if (taesd && folder.vaeTiny) checkTinyVae(taesd, folder.vaeTiny.configPath, vaeConfig, folder.vae.configPath);
  const info: ModelInfo = {
    id,
    label: id,
    isTestModel: false,
    vaeScaleFactor: vaeScaleFactor(vaeConfig),
    latentChannels: vaeConfig.latent_channels,
    vaeScalingFactor: vaeConfig.scaling_factor,
    hasTinyVae: taesd !== null,
  };
  const te1 = folderComponent('text_encoder', folder.textEncoder, (w, req) =>
    buildClipText(folder.textEncoder.config, w, {
      ...req,
      withProjection: false,
      configFile: folder.textEncoder.configPath,
    }),
  );
  const te2 = folderComponent('text_encoder_2', folder.textEncoder2, (w, req) =>
    buildClipText(folder.textEncoder2.config, w, {
      ...req,
      withProjection: true,
      configFile: folder.textEncoder2.configPath,
    }),
  );
  /** The VAE's decoder or encoder: our own ONNX export where there is one, else built from the weights. */
  const vaeComponent = (
    name: 'vae_decoder' | 'vae_encoder',
    onnx: OnnxFile | undefined,
    build: typeof buildVaeDecoder,
  ): ComponentSource => ({
    name,
    weightsKey: folderWeightsKey(folder.vae.dir),
    build: (req) =>
      onnx?.meta
        ? { modelPath: onnx.modelPath }
        : build(folder.vae.config, folder.vae.weights(req.precision === 'fp16' ? { variant: 'fp16' } : {}), req),
  });
  let tokenizers: { tokenizer: ClipTokenizer; tokenizer2: ClipTokenizer } | undefined;
  return {
    info,
    forceZerosForEmptyPrompt: folder.index.force_zeros_for_empty_prompt,
    schedulerConfig,
    vaeShiftFactor: (vaeConfig as { shift_factor?: number | null }).shift_factor ?? 0,
    tokenizers: () => {
      if (!tokenizers) {
        const tokenizer = ClipTokenizer.fromFolder(folder.tokenizerDir);
        const tokenizer2 = ClipTokenizer.fromFolder(folder.tokenizer2Dir);
        checkTokenizer(tokenizer, folder.tokenizerDir, folder.textEncoder.clip, folder.textEncoder.configPath);
        checkTokenizer(tokenizer2, folder.tokenizer2Dir, folder.textEncoder2.clip, folder.textEncoder2.configPath);
        tokenizers = { tokenizer, tokenizer2 };
      }
      return tokenizers;
    },
    clipWeightsKey: combineKeys(
      te1.weightsKey,
      te2.weightsKey,
      folderWeightsKey(folder.tokenizerDir),
      folderWeightsKey(folder.tokenizer2Dir),
    ),
    textEncoder: te1,
    textEncoder2: te2,
    unet: folderComponent('unet', folder.unet, (w, req) =>
      buildUnet(folder.unet.config, w, { ...req, configFile: folder.unet.configPath }),
    ),
    vaeDecoder: vaeComponent('vae_decoder', folder.vaeDecoderOnnx, buildVaeDecoder),
    vaeEncoder: vaeComponent('vae_encoder', folder.vaeEncoderOnnx, buildVaeEncoder),
    taesd,
    vaeTiling: folder.vae.hasSafetensors
      ? { config: folder.vae.config, file: folder.vae.configPath, weights: () => folder.vae.weights() }
      : null,
  };
}

/** A bundled tiny VAE must decode the same latents as the VAE: same channels, same pixels per latent. */
function checkTinyVae(
  t: TaesdSource,
  tinyFile: string,
  vae: { latent_channels: number; block_out_channels: readonly number[] },
  vaeFile: string,
): void {
  if (t.latentChannels !== vae.latent_channels)
    throw new Error(
      `${tinyFile}: latent_channels ${t.latentChannels} does not match latent_channels ${vae.latent_channels} in ${vaeFile}`,
    );
  const f = vaeScaleFactor(vae);
  if (t.scaleFactor !== f)
    throw new Error(
      `${tinyFile}: num_decoder_blocks and upsampling_scaling_factor give ${t.scaleFactor} pixels per latent, but ` +
        `block_out_channels in ${vaeFile} give ${f}`,
    );
}

/** Token ids must index the encoder's embeddings, and its positions cover the padded length (else ORT fails mid-run). */
function checkTokenizer(
  t: ClipTokenizer,
  dir: string,
  clip: { vocab_size: number; max_position_embeddings: number },
  configFile: string,
): void {
  if (t.maxLength !== clip.max_position_embeddings)
    throw new Error(
      `${path.join(dir, 'tokenizer_config.json')}: model_max_length ${t.maxLength} does not match ` +
        `max_position_embeddings ${clip.max_position_embeddings} in ${configFile}`,
    );
  if (t.idCount > clip.vocab_size)
    throw new Error(
      `${path.join(dir, 'vocab.json')}: ${t.idCount} token ids do not fit vocab_size ${clip.vocab_size} in ${configFile}`,
    );
}
