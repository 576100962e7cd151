import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Device } from '@sdflow/nodes/values.ts';
import type { ModuleSpec } from './messages.ts';

// Which SdxlBackend the engine's worker creates. The default is the ONNX backend; SDFLOW_BACKEND
// ("<module path>#<export>") plugs in another factory taking the same options (tests, experiments).

export interface BackendOptions {
  /** Folder of diffusers models (and ONNX exports). */
  readonly modelsDir: string;
  /** Where Save Image / Save Latent write and Load Latent reads. */
  readonly outputDir: string;
  /** Prompt-embedding cache of Cache Embeddings (kept across runs and restarts). */
  readonly cacheDir: string;
  /** Where Load Image reads its files (absent: Load Image fails). */
  readonly inputDir?: string;
  /** Device that `auto` resolves to; default: the backend's choice (CUDA when available, else CPU). */
  readonly device?: Device;
}

const ONNX_BACKEND = fileURLToPath(new URL('../backend/index.ts', import.meta.url));

export function backendSpec(options: BackendOptions, env: NodeJS.ProcessEnv = process.env): ModuleSpec {
  const override = env.SDFLOW_BACKEND;
  if (override) {
    const hash = override.lastIndexOf('#');
    const module = hash < 0 ? override : override.slice(0, hash);
    return { module: path.resolve(module), export: hash < 0 ? 'createBackend' : override.slice(hash + 1), options };
  }
  if (!existsSync(ONNX_BACKEND)) throw new Error(`the ONNX backend is missing: ${ONNX_BACKEND}`);
  return { module: ONNX_BACKEND, export: 'createOnnxBackend', options };
}
