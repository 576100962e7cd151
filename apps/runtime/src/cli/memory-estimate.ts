import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { catalog } from '@sdflow/nodes/catalog.ts';
import { namedModels } from '@sdflow/nodes/graph/model-problems.ts';
import { estimateRunCost } from '@sdflow/nodes/graph/run-cost.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { SDXL_BASE_RANDOM_ID } from '../models/configs/sdxl-base/sdxl-base-random.ts';

// What a CPU run will hold in memory, told before it starts: a full-size SDXL model in fp32 grows the process past
// 20 GB while its graphs are built, with nothing on screen for minutes, and a machine without that much free memory
// then swaps or kills it.

/** SDXL base's parameters (UNet 2.57 B, text encoders 0.82 B, VAE 0.08 B): the built-in benchmark model's size. */
const SDXL_BASE_PARAMS = 3.47e9;
const COMPONENTS = ['unet', 'text_encoder', 'text_encoder_2', 'vae'];

export interface MemoryEstimate {
  /** fp32 weights of every model the workflow names, by model. */
  readonly weights: { readonly model: string; readonly bytes: number }[];
  /** The largest node's working memory. */
  readonly workingBytes: number;
  /** Weights twice (a graph's and its session's copy, while graphs are built) plus working memory. */
  readonly totalBytes: number;
}

export async function cpuMemoryEstimate(workflow: Workflow, modelsDir: string): Promise<MemoryEstimate> {
  const names = [...new Set(namedModels(workflow, catalog).flatMap((m) => (m.source === 'models' ? [m.name] : [])))];
  const weights = await Promise.all(
    names.map(async (model) => ({ model, bytes: await fp32Weights(modelsDir, model) })),
  );
  const workingBytes = Math.max(0, ...estimateRunCost(workflow, catalog).map((e) => e.bytes));
  const totalBytes = 2 * weights.reduce((sum, w) => sum + w.bytes, 0) + workingBytes;
  return { weights, workingBytes, totalBytes };
}

/** One line when the estimate passes the free memory, else undefined. */
export function memoryWarning(estimate: MemoryEstimate, freeBytes: number): string | undefined {
  if (estimate.totalBytes <= freeBytes) return undefined;
  const models = estimate.weights
    .filter((w) => w.bytes > 0)
    .map((w) => `model "${w.model}": ${gib(w.bytes)} of fp32 weights, held twice while its graphs are built`)
    .join('; ');
  return `warning: this run may need about ${gib(estimate.totalBytes)} of memory (${models || 'no model weights'}, plus ${gib(estimate.workingBytes)} of working memory) and this machine has ${gib(freeBytes)} free; it may swap or be killed`;
}

/** A model folder's weights as fp32 (fp16-only files counted double); the built-in models by their size. */
async function fp32Weights(modelsDir: string, model: string): Promise<number> {
  const dir = path.join(modelsDir, model);
  const there = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!there) return model === SDXL_BASE_RANDOM_ID ? SDXL_BASE_PARAMS * 4 : 0;
  let total = 0;
  for (const component of COMPONENTS) {
    const files = await readdir(path.join(dir, component)).catch(() => [] as string[]);
    const weights = files.filter((f) => f.endsWith('.safetensors'));
    const full = weights.filter((f) => !f.includes('.fp16.'));
    const chosen = full.length > 0 ? full : weights;
    const factor = full.length > 0 ? 1 : 2;
    for (const f of chosen) total += factor * (await stat(path.join(dir, component, f))).size;
  }
  return total;
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
