import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { catalog } from '@sdflow/nodes/catalog.ts';
import { type AvailableModel, type AvailableModels, modelProblems } from '@sdflow/nodes/graph/model-problems.ts';
import type { Problem } from '@sdflow/nodes/graph/problem.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { SDXL_BASE_RANDOM_ID } from '../models/configs/sdxl-base/sdxl-base-random.ts';
import { vaeScaleFactor } from '../onnx/builders/vae-config.ts';
import { listModels } from '../server/model-list.ts';

// The models a workflow may name, read from the models folder as the runtime will resolve them (ModelResolver):
// its diffusers folders and TAESD folders, plus the built-in test and benchmark models.

const SDXL_SCALE = 8;

export async function availableModels(modelsDir: string): Promise<AvailableModels> {
  const entries = await listModels(modelsDir);
  const models: AvailableModel[] = [];
  const tinyVaes: AvailableModel[] = [];
  for (const e of entries) {
    const builtin = e.format === 'builtin';
    const model = { id: e.id, vaeScaleFactor: builtin ? SDXL_SCALE : await scaleOf(path.join(modelsDir, e.id)) };
    if (e.kind === 'sdxl') models.push(model);
    if (e.kind === 'taesd' || e.hasTinyVae) tinyVaes.push({ id: e.id });
  }
  if (!models.some((m) => m.id === SDXL_BASE_RANDOM_ID)) {
    models.push({ id: SDXL_BASE_RANDOM_ID, vaeScaleFactor: SDXL_SCALE });
    tinyVaes.push({ id: SDXL_BASE_RANDOM_ID });
  }
  return { models, tinyVaes };
}

/** The workflow's model problems against the models folder: missing models, image sizes their VAE cannot make. */
export async function workflowModelProblems(workflow: Workflow, modelsDir: string): Promise<Problem[]> {
  return modelProblems(workflow, catalog, await availableModels(modelsDir));
}

async function scaleOf(dir: string): Promise<number | undefined> {
  try {
    const config = JSON.parse(await readFile(path.join(dir, 'vae', 'config.json'), 'utf8'));
    return Array.isArray(config.block_out_channels) ? vaeScaleFactor(config) : undefined;
  } catch {
    return undefined;
  }
}
