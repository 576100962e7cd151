// Reads a diffusers SDXL folder: model_index.json, each component's config.json (checked to be SDXL-shaped),
// and where each component's weights are: safetensors (lazy) or an ONNX export already in the folder.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { type ClipTextConfig, parseClipTextConfig } from '../onnx/builders/clip-text-config.ts';
import { parseUnetConfig, type UnetArch } from '../onnx/builders/unet-config.ts';
import { type AutoencoderKLConfig, parseVaeConfig } from '../onnx/builders/vae-config.ts';
import { SafetensorsSource, type SafetensorsSourceOptions } from './weight-source.ts';

const LibClass = z.tuple([z.string().nullable(), z.string().nullable()]);
export const ModelIndex = z.looseObject({
  _class_name: z.string(),
  force_zeros_for_empty_prompt: z.boolean().default(true),
  text_encoder: LibClass.optional(),
  text_encoder_2: LibClass.optional(),
  tokenizer: LibClass.optional(),
  tokenizer_2: LibClass.optional(),
  unet: LibClass.optional(),
  vae: LibClass.optional(),
  scheduler: LibClass.optional(),
});
export type ModelIndex = z.infer<typeof ModelIndex>;

/** An ONNX graph already on disk (ours from `sdflow export`, or Optimum's): model.onnx + its external data. */
export interface OnnxFile {
  readonly modelPath: string;
  /** sdflow.json beside it when we wrote it; absent for other producers (e.g. Optimum's IO names). */
  readonly meta?: ExportMeta;
}

export const ExportMeta = z.object({
  producer: z.literal('sdflow'),
  version: z.literal(1),
  precision: z.enum(['fp32', 'fp16']),
  target: z.enum(['cpu', 'cuda', 'webgpu']),
  inputs: z.array(z.string()),
  outputs: z.array(z.string()),
});
export type ExportMeta = z.infer<typeof ExportMeta>;

export interface ComponentFolder {
  readonly name: string;
  readonly dir: string;
  readonly configPath: string;
  /** config.json as parsed JSON (each builder parses its own schema from it). */
  readonly config: unknown;
  /** dir/model.onnx when present: used as is instead of building from safetensors. */
  readonly onnx?: OnnxFile;
  readonly hasSafetensors: boolean;
  /** Opens the safetensors headers (errors name the file); throws when the folder has none. */
  weights(opts?: SafetensorsSourceOptions): SafetensorsSource;
}

export interface SdxlFolder {
  readonly root: string;
  readonly index: ModelIndex;
  readonly textEncoder: ComponentFolder & { readonly clip: ClipTextConfig };
  readonly textEncoder2: ComponentFolder & { readonly clip: ClipTextConfig };
  readonly unet: ComponentFolder & { readonly arch: UnetArch };
  /** vae/ (safetensors), or for Optimum-style exports the vae_decoder/ folder. */
  readonly vae: ComponentFolder & { readonly vaeConfig: AutoencoderKLConfig };
  /** Exported ONNX parts beside vae/ (vae_decoder/, vae_encoder/), when present. */
  readonly vaeDecoderOnnx?: OnnxFile;
  readonly vaeEncoderOnnx?: OnnxFile;
  /** vae_tiny/ when present (AutoencoderTiny, sdflow's convention for a bundled TAESD); in an export,
   *  vae_tiny_decoder/ (with vaeTinyDecoderOnnx / vaeTinyEncoderOnnx). */
  readonly vaeTiny?: ComponentFolder;
  readonly vaeTinyDecoderOnnx?: OnnxFile;
  readonly vaeTinyEncoderOnnx?: OnnxFile;
  readonly tokenizerDir: string;
  readonly tokenizer2Dir: string;
  readonly schedulerConfigPath: string;
}

/** Opens and checks an SDXL diffusers folder; every error names the file concerned. No weights are read. */
export function openSdxlFolder(root: string): SdxlFolder {
  const dir = resolve(root);
  const indexPath = join(dir, 'model_index.json');
  const index = parseJsonFile(indexPath, ModelIndex, 'model_index.json');
  if (!index._class_name.startsWith('StableDiffusionXL'))
    throw new Error(`${indexPath}: _class_name is "${index._class_name}", not an SDXL pipeline (StableDiffusionXL...)`);
  const te1 = component(dir, 'text_encoder');
  const te2 = component(dir, 'text_encoder_2');
  const unet = component(dir, 'unet');
  const vaeName =
    existsSync(join(dir, 'vae', 'config.json')) || !existsSync(join(dir, 'vae_decoder')) ? 'vae' : 'vae_decoder';
  const vae = component(dir, vaeName);
  const clip1 = parseClipTextConfig(te1.config, te1.configPath);
  const clip2 = parseClipTextConfig(te2.config, te2.configPath);
  const arch = parseUnetConfig(unet.config, unet.configPath);
  const vaeConfig = parseVaeConfig(vae.config, vae.configPath);
  checkConsistency({ te1, te2, unet, clip1, clip2, arch, vae, vaeConfig });
  const tokenizerDir = requireDir(dir, 'tokenizer');
  const tokenizer2Dir = requireDir(dir, 'tokenizer_2');
  const schedulerConfigPath = join(requireDir(dir, 'scheduler'), 'scheduler_config.json');
  if (!existsSync(schedulerConfigPath)) throw new Error(`${schedulerConfigPath}: missing scheduler config`);
  const tinyName = existsSync(join(dir, 'vae_tiny', 'config.json')) ? 'vae_tiny' : 'vae_tiny_decoder';
  const vaeTiny = existsSync(join(dir, tinyName, 'config.json')) ? component(dir, tinyName) : undefined;
  return {
    root: dir,
    index,
    textEncoder: { ...te1, clip: clip1 },
    textEncoder2: { ...te2, clip: clip2 },
    unet: { ...unet, arch },
    vae: { ...vae, vaeConfig },
    vaeDecoderOnnx: onnxIn(join(dir, 'vae_decoder')),
    vaeEncoderOnnx: onnxIn(join(dir, 'vae_encoder')),
    vaeTiny,
    vaeTinyDecoderOnnx: onnxIn(join(dir, 'vae_tiny_decoder')),
    vaeTinyEncoderOnnx: onnxIn(join(dir, 'vae_tiny_encoder')),
    tokenizerDir,
    tokenizer2Dir,
    schedulerConfigPath,
  };
}

function checkConsistency(c: {
  te1: ComponentFolder;
  te2: ComponentFolder;
  unet: ComponentFolder;
  clip1: ClipTextConfig;
  clip2: ClipTextConfig;
  arch: UnetArch;
  vae: ComponentFolder;
  vaeConfig: AutoencoderKLConfig;
}): void {
  // every message names both config files and fields, so a mismatched pipeline fails at load, before inference
  const ctx = c.clip1.hidden_size + c.clip2.hidden_size;
  if (c.arch.crossAttentionDim !== ctx)
    throw new Error(
      `${c.unet.configPath}: cross_attention_dim ${c.arch.crossAttentionDim} does not match the text encoders' ` +
        `hidden_size ${c.clip1.hidden_size} (${c.te1.configPath}) + hidden_size ${c.clip2.hidden_size} ` +
        `(${c.te2.configPath}) = ${ctx}; not an SDXL base pipeline`,
    );
  const pooled = c.clip2.projection_dim ?? c.clip2.hidden_size;
  const textEmbeds = c.arch.addInputDim - 6 * c.arch.addTimeEmbedDim;
  if (textEmbeds !== pooled)
    throw new Error(
      `${c.unet.configPath}: projection_class_embeddings_input_dim ${c.arch.addInputDim} leaves ${textEmbeds} for text_embeds ` +
        `after 6 time ids x addition_time_embed_dim ${c.arch.addTimeEmbedDim}, but ${c.te2.configPath} has ` +
        `projection_dim ${pooled}; not an SDXL base pipeline`,
    );
  if (c.clip1.max_position_embeddings !== c.clip2.max_position_embeddings)
    throw new Error(
      `${c.te1.configPath}: max_position_embeddings ${c.clip1.max_position_embeddings} differs from ` +
        `max_position_embeddings ${c.clip2.max_position_embeddings} in ${c.te2.configPath}; both encode the same tokens`,
    );
  for (const [field, channels] of [
    ['in_channels', c.arch.inChannels],
    ['out_channels', c.arch.outChannels],
  ] as const)
    if (c.vaeConfig.latent_channels !== channels)
      throw new Error(
        `${c.vae.configPath}: latent_channels ${c.vaeConfig.latent_channels} does not match ${field} ${channels} ` +
          `in ${c.unet.configPath}`,
      );
}

/** A component folder with config.json and weights (safetensors or model.onnx). */
export function component(root: string, name: string): ComponentFolder {
  const dir = join(root, name);
  if (!existsSync(dir)) throw new Error(`${dir}: missing component folder '${name}'`);
  const configPath = join(dir, 'config.json');
  const config = parseJsonFile(configPath, z.unknown(), `${name}/config.json`);
  const onnx = onnxIn(dir);
  const hasSafetensors = SafetensorsSource.present(dir);
  if (!onnx && !hasSafetensors)
    throw new Error(`${dir}: no weights (*.safetensors or model.onnx) in component '${name}'`);
  return {
    name,
    dir,
    configPath,
    config,
    onnx,
    hasSafetensors,
    weights: (opts) => {
      if (!hasSafetensors) throw new Error(`${dir}: no *.safetensors weights in component '${name}'`);
      return SafetensorsSource.open(dir, opts);
    },
  };
}

function onnxIn(dir: string): OnnxFile | undefined {
  const modelPath = join(dir, 'model.onnx');
  if (!existsSync(modelPath)) return undefined;
  const metaPath = join(dir, 'sdflow.json');
  return existsSync(metaPath) ? { modelPath, meta: parseJsonFile(metaPath, ExportMeta, 'sdflow.json') } : { modelPath };
}

function requireDir(root: string, name: string): string {
  const dir = join(root, name);
  if (!existsSync(dir) || readdirSync(dir).length === 0) throw new Error(`${dir}: missing or empty folder '${name}'`);
  return dir;
}

function parseJsonFile<T>(path: string, schema: z.ZodType<T>, what: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: ${what} is not valid JSON (${(e as Error).message})`);
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const detail = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${path}: invalid ${what}: ${detail}`);
  }
  return r.data;
}
