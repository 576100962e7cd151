import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildRequest, ModelSource } from '../../../backend/model-source.ts';
import { cudaDecoderLayout } from '../../../onnx/builders/decoder-layout.ts';
import { DEFAULT_CUDA_FUSIONS } from '../../../onnx/builders/unet-fusions.ts';
import type { BuiltModel } from '../../../onnx/built-model.ts';
import type { OnnxPath } from '../../../onnx/session.ts';
import { writeBuilt } from '../../export.ts';
import { type SyntheticConfigName, syntheticModel } from '../../synthetic-model.ts';

// "sdxl-base-random": stabilityai/stable-diffusion-xl-base-1.0's architecture (this folder's configs) with
// synthetic weights, for benchmarks: same shapes, same compute as the real model; its images are noise.
// SDFLOW_BUILD_CACHE=<dir> keeps each built graph on disk so later processes skip the multi-GB build.

export const SDXL_BASE_RANDOM_ID = 'sdxl-base-random';
export const SDXL_BASE_DIR = fileURLToPath(new URL('./', import.meta.url));

const CONFIG_FILES: Record<SyntheticConfigName, string> = {
  text_encoder: 'text_encoder/config.json',
  text_encoder_2: 'text_encoder_2/config.json',
  unet: 'unet/config.json',
  vae: 'vae/config.json',
  vae_tiny: 'vae_tiny/config.json',
  scheduler: 'scheduler/scheduler_config.json',
  tokenizer: 'tokenizer/tokenizer_config.json',
  tokenizer_2: 'tokenizer_2/tokenizer_config.json',
};

export function sdxlBaseRandomModel(configDir = process.env.SDFLOW_SDXL_BASE_CONFIGS ?? SDXL_BASE_DIR): ModelSource {
  const cacheDir = process.env.SDFLOW_BUILD_CACHE;
  return syntheticModel({
    info: {
      id: SDXL_BASE_RANDOM_ID,
      label: 'SDXL base architecture, random weights (benchmarks; images are noise)',
      isTestModel: true,
    },
    config: (name) => {
      const file = join(configDir, CONFIG_FILES[name]);
      return { json: JSON.parse(readFileSync(file, 'utf8')), file };
    },
    keyPrefix: `${SDXL_BASE_RANDOM_ID}-v2`,
    weightsLabel: SDXL_BASE_RANDOM_ID,
    tokenizerLabel: SDXL_BASE_RANDOM_ID,
    wrapBuild: cacheDir
      ? (name, build) => (req) => cachedBuild(buildCacheDir(cacheDir, name, req), () => build(req))
      : undefined,
  });
}

/** One folder per distinct graph: everything in the build request that changes the graph is in its name. */
export function buildCacheDir(cacheDir: string, name: string, req: BuildRequest): string {
  const attention = req.attention && req.attention !== 'mha' ? `-${req.attention}` : '';
  // the UNet's CUDA graph changes with the default fusions: a cache built before a default changed must not be used
  const fusions =
    name === 'unet' && req.target === 'cuda'
      ? `-f${createHash('sha256').update(JSON.stringify(DEFAULT_CUDA_FUSIONS)).digest('hex').slice(0, 8)}`
      : '';
  const decoder = name === 'vae_decoder' || name === 'taesd_decoder';
  const layout = decoder && req.target === 'cuda' ? `-${cudaDecoderLayout()}` : '';
  return join(cacheDir, `${SDXL_BASE_RANDOM_ID}-${name}-${req.precision}-${req.target}${attention}${fusions}${layout}`);
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
