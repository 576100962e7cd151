import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SDXL_BASE_RANDOM_ID } from '../models/configs/sdxl-base/sdxl-base-random.ts';

// What GET /api/models answers: the models folder's diffusers / TAESD folders plus the built-in test model.

export const ModelEntry = z.object({
  id: z.string(),
  label: z.string(),
  kind: z.enum(['sdxl', 'taesd']),
  isTestModel: z.boolean(),
  hasTinyVae: z.boolean(),
  /** How the weights are stored: diffusers safetensors, or previously exported ONNX graphs. */
  format: z.enum(['diffusers', 'onnx', 'builtin']),
});
export type ModelEntry = z.infer<typeof ModelEntry>;

export const DEFAULT_MODEL: ModelEntry = {
  id: 'default',
  label: 'Built-in test model (random weights: images are noise)',
  kind: 'sdxl',
  isTestModel: true,
  hasTinyVae: true,
  format: 'builtin',
};

/** Full-size SDXL base with random weights, built from its config: for benchmarks (what the seed workflows name). */
export const SDXL_BASE_RANDOM_MODEL: ModelEntry = {
  id: SDXL_BASE_RANDOM_ID,
  label: 'Full-size SDXL base, random weights (benchmarks: images are noise)',
  kind: 'sdxl',
  isTestModel: true,
  hasTinyVae: true,
  format: 'builtin',
};

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function classNameOf(configFile: string): Promise<string | undefined> {
  try {
    const json = JSON.parse(await readFile(configFile, 'utf8')) as { _class_name?: unknown };
    return typeof json._class_name === 'string' ? json._class_name : undefined;
  } catch {
    return undefined;
  }
}

async function describe(dir: string, id: string): Promise<ModelEntry | undefined> {
  if (await exists(path.join(dir, 'model_index.json'))) {
    const hasOnnx = await exists(path.join(dir, 'unet', 'model.onnx'));
    return {
      id,
      label: id,
      kind: 'sdxl',
      isTestModel: false,
      hasTinyVae: await isDir(path.join(dir, 'vae_tiny')),
      format: hasOnnx ? 'onnx' : 'diffusers',
    };
  }
  if ((await classNameOf(path.join(dir, 'config.json'))) === 'AutoencoderTiny') {
    return { id, label: id, kind: 'taesd', isTestModel: false, hasTinyVae: true, format: 'diffusers' };
  }
  return undefined;
}

/** Folders of modelsDir (symlinks followed), sorted by id, then the built-in test model. */
export async function listModels(modelsDir: string): Promise<ModelEntry[]> {
  let names: string[] = [];
  try {
    names = await readdir(modelsDir);
  } catch {
    names = [];
  }
  const found: ModelEntry[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.') || name === DEFAULT_MODEL.id) continue;
    const dir = path.join(modelsDir, name);
    if (!(await isDir(dir))) continue;
    const entry = await describe(dir, name);
    if (entry) found.push(entry);
  }
  // The built-in models, unless a folder of the same name takes their place (as the resolver does).
  const builtins = found.some((m) => m.id === SDXL_BASE_RANDOM_ID) ? [] : [SDXL_BASE_RANDOM_MODEL];
  return [...found, ...builtins, DEFAULT_MODEL];
}
