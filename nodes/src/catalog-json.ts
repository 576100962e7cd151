import { z } from 'zod';
import type { Catalog } from './catalog.ts';
import { fnv1a64 } from './hash.ts';
import { PORT_TYPES } from './port-types.ts';

// The catalogue as plain JSON (params as JSON Schema): what the runtime serves and the editor renders from.

export const PortJson = z.object({
  type: z.enum(PORT_TYPES),
  optional: z.boolean(),
  description: z.string().optional(),
});
export type PortJson = z.infer<typeof PortJson>;

export const NodeTypeJson = z.object({
  type: z.string(),
  version: z.number().int(),
  title: z.string(),
  category: z.string(),
  description: z.string(),
  isOutput: z.boolean(),
  inputs: z.record(z.string(), PortJson),
  outputs: z.record(z.string(), PortJson.omit({ optional: true })),
  /** JSON Schema (draft 2020-12, input side: params with defaults are optional) with widget hints in each property. */
  params: z.record(z.string(), z.unknown()),
});
export type NodeTypeJson = z.infer<typeof NodeTypeJson>;

export const CatalogJson = z.object({
  /** Changes whenever any definition changes: clients cache by it. */
  version: z.string(),
  nodeTypes: z.record(z.string(), NodeTypeJson),
});
export type CatalogJson = z.infer<typeof CatalogJson>;

export function catalogToJson(catalog: Catalog): CatalogJson {
  const nodeTypes: Record<string, NodeTypeJson> = {};
  for (const [key, { def }] of Object.entries(catalog)) {
    if (key !== def.type) throw new Error(`catalog key "${key}" differs from its definition's type "${def.type}"`);
    nodeTypes[key] = {
      type: def.type,
      version: def.version,
      title: def.title,
      category: def.category,
      description: def.description,
      isOutput: def.isOutput ?? false,
      inputs: Object.fromEntries(
        Object.entries(def.inputs).map(([port, s]) => [
          port,
          { type: s.type, optional: s.optional ?? false, ...(s.description ? { description: s.description } : {}) },
        ]),
      ),
      outputs: Object.fromEntries(
        Object.entries(def.outputs).map(([port, s]) => [
          port,
          { type: s.type, ...(s.description ? { description: s.description } : {}) },
        ]),
      ),
      params: z.toJSONSchema(def.params, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>,
    };
  }
  return { version: fnv1a64(JSON.stringify(nodeTypes)), nodeTypes };
}
