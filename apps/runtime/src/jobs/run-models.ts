import type { Catalog } from '@sdflow/nodes/catalog.ts';
import { namedParams, type ParamSource } from '@sdflow/nodes/graph/named-params.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';

// What a run names from a folder: the models it loads, so a dispatcher can hand it to a device that holds them, and
// the input images it reads, so a worker elsewhere can be sent them.

export function namedFrom(workflow: Workflow, catalog: Catalog, source: ParamSource): string[] {
  return [...new Set(namedParams(workflow, catalog, [source]).map((n) => n.name))].sort();
}

export function runModels(workflow: Workflow, catalog: Catalog): string[] {
  return namedFrom(workflow, catalog, 'models');
}
