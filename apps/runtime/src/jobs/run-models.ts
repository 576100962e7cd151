import type { Catalog } from '@sdflow/nodes/catalog.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { ParamMeta } from '@sdflow/nodes/param-meta.ts';

// What a run names from a folder, read from the params that the node types mark with that folder (`source`; no
// node type names here): the models it loads, so a dispatcher can hand it to a device that holds them, and the
// input images it reads, so a worker elsewhere can be sent them.

export function namedFrom(workflow: Workflow, catalog: Catalog, source: NonNullable<ParamMeta['source']>): string[] {
  const names = new Set<string>();
  for (const node of Object.values(workflow.nodes)) {
    const def = Object.hasOwn(catalog, node.type) ? catalog[node.type as keyof Catalog]?.def : undefined;
    if (!def) continue;
    for (const [key, schema] of Object.entries(def.params.shape)) {
      if ((schema as { meta?: () => { source?: string } | undefined }).meta?.()?.source !== source) continue;
      const parsed = (schema as { safeParse: (v: unknown) => { success: boolean; data?: unknown } }).safeParse(
        node.params[key],
      );
      if (parsed.success && typeof parsed.data === 'string') names.add(parsed.data);
    }
  }
  return [...names].sort();
}

export function runModels(workflow: Workflow, catalog: Catalog): string[] {
  return namedFrom(workflow, catalog, 'models');
}
