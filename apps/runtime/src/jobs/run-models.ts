import type { Catalog } from '@sdflow/nodes/catalog.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';

// The models a run loads, read from the params that the node types mark as model pickers (no node type names
// here): what lets a dispatcher hand the run to a device that already holds them.

export function runModels(workflow: Workflow, catalog: Catalog): string[] {
  const models = new Set<string>();
  for (const node of Object.values(workflow.nodes)) {
    const def = Object.hasOwn(catalog, node.type) ? catalog[node.type as keyof Catalog]?.def : undefined;
    if (!def) continue;
    for (const [key, schema] of Object.entries(def.params.shape)) {
      if ((schema as { meta?: () => { source?: string } | undefined }).meta?.()?.source !== 'models') continue;
      const parsed = (schema as { safeParse: (v: unknown) => { success: boolean; data?: unknown } }).safeParse(
        node.params[key],
      );
      if (parsed.success && typeof parsed.data === 'string') models.add(parsed.data);
    }
  }
  return [...models].sort();
}
