import type { z } from 'zod';
import type { Catalog } from '../catalog.ts';
import type { ParamMeta } from '../param-meta.ts';
import type { Workflow } from './workflow.ts';

// The names a workflow's params pick from a folder (models, tiny VAEs, input images...), found through the params
// the node types mark with that folder (`source`), never through node type names.

export type ParamSource = NonNullable<ParamMeta['source']>;

export interface NamedParam<S extends ParamSource = ParamSource> {
  readonly nodeId: string;
  readonly param: string;
  readonly source: S;
  /** As the param parses: an omitted param gives its default. */
  readonly name: string;
}

export function namedParams<S extends ParamSource>(
  workflow: Workflow,
  catalog: Catalog,
  sources: readonly S[],
): NamedParam<S>[] {
  return Object.entries(workflow.nodes).flatMap(([nodeId, node]) => {
    const def = Object.hasOwn(catalog, node.type) ? catalog[node.type]?.def : undefined;
    if (!def) return [];
    const shape = def.params.shape as Record<string, z.ZodType>;
    return Object.entries(shape).flatMap(([param, schema]) => {
      const source = (schema.meta() as { source?: string } | undefined)?.source as S | undefined;
      if (source === undefined || !sources.includes(source)) return [];
      const parsed = schema.safeParse(node.params[param]);
      return parsed.success && typeof parsed.data === 'string' ? [{ nodeId, param, source, name: parsed.data }] : [];
    });
  });
}
