import type { Catalog } from '../catalog.ts';
import { type NamedParam, namedParams } from './named-params.ts';
import { type Problem, problem } from './problem.ts';
import type { Workflow } from './workflow.ts';

// Checks against the models a runtime has, so that a workflow naming a missing model, or an image size its model's
// VAE cannot produce, is a validation problem (named, with what is available) instead of a run that fails later.

export interface AvailableModel {
  readonly id: string;
  /** Pixels per latent pixel each way (8 for SDXL), where known. */
  readonly vaeScaleFactor?: number;
}

/** What a model picker may name, by the param's `source` (param-meta.ts). */
export interface AvailableModels {
  readonly models: readonly AvailableModel[];
  readonly tinyVaes: readonly AvailableModel[];
}

/** Every model the workflow's nodes name: node, param, which list it names from, and the name. */
export function namedModels(workflow: Workflow, catalog: Catalog): NamedParam<keyof AvailableModels>[] {
  return namedParams(workflow, catalog, ['models', 'tinyVaes']);
}

export function modelProblems(workflow: Workflow, catalog: Catalog, available: AvailableModels): Problem[] {
  const problems: Problem[] = [];
  const defOf = (type: string) => (Object.hasOwn(catalog, type) ? catalog[type]?.def : undefined);
  const modelOf = new Map<string, AvailableModel>();
  for (const { nodeId, param, source, name } of namedModels(workflow, catalog)) {
    const found = available[source].find((m) => m.id === name);
    if (found) {
      modelOf.set(nodeId, found);
      continue;
    }
    const list = available[source].map((m) => `"${m.id}"`).join(', ');
    const what = source === 'models' ? 'model' : 'tiny VAE';
    const type = workflow.nodes[nodeId]!.type;
    problems.push(
      problem(
        'unknownModel',
        `node "${nodeId}" (${type}): param "${param}": no ${what} "${name}" in the models folder; available: ${list || 'none'}`,
        { nodeId, param },
      ),
    );
  }
  // An image size the VAE cannot make: the latent would be rounded, and the run fail at decode.
  for (const [id, node] of Object.entries(workflow.nodes)) {
    const def = defOf(node.type);
    const parsed = def?.cost ? def.params.safeParse(node.params) : undefined;
    if (!def?.cost || !parsed?.success) continue;
    const size = def.cost(parsed.data, undefined).latent;
    const vaePort = Object.keys(def.inputs).find((port) => def.inputs[port]?.type === 'VAE');
    const source = vaePort === undefined ? undefined : node.inputs[vaePort]?.node;
    const model = source === undefined ? undefined : modelOf.get(source);
    const f = model?.vaeScaleFactor;
    if (!size || !f) continue;
    for (const key of ['width', 'height'] as const) {
      if (size[key] % f === 0) continue;
      problems.push(
        problem(
          'latentSize',
          `node "${id}" (${def.type}): param "${key}" is ${size[key]}, not a multiple of ${f} (the VAE scale factor of model "${model.id}"); try ${Math.max(f, Math.round(size[key] / f) * f)}`,
          { nodeId: id, param: key },
        ),
      );
    }
  }
  return problems;
}
