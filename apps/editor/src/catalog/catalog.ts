import { z } from 'zod';

// The runtime's node catalogue as the editor reads it (GET /api/catalog); validated where it enters, trusted after.

export const PortInfo = z.object({
  type: z.string(),
  optional: z.boolean().optional(),
  description: z.string().optional(),
});
export type PortInfo = z.infer<typeof PortInfo>;

/** A JSON Schema fragment describing one param (zod's toJSONSchema output plus widget hints from .meta()). */
export const ParamSchema = z.looseObject({
  type: z.union([z.string(), z.array(z.string())]).optional(),
  enum: z.array(z.unknown()).optional(),
  default: z.unknown().optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  exclusiveMinimum: z.number().optional(),
  exclusiveMaximum: z.number().optional(),
  multipleOf: z.number().optional(),
  step: z.number().optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  widget: z.string().optional(),
  anyOf: z.array(z.unknown()).optional(),
  oneOf: z.array(z.unknown()).optional(),
  const: z.unknown().optional(),
});
export type ParamSchema = z.infer<typeof ParamSchema>;

export const ParamsSchema = z.looseObject({
  type: z.literal('object').optional(),
  properties: z.record(z.string(), ParamSchema).default({}),
  required: z.array(z.string()).optional(),
});
export type ParamsSchema = z.infer<typeof ParamsSchema>;

export const NodeTypeInfo = z.object({
  type: z.string(),
  version: z.number().default(1),
  title: z.string(),
  category: z.string().default('other'),
  description: z.string().default(''),
  params: ParamsSchema.default({ type: 'object', properties: {} }),
  inputs: z.record(z.string(), PortInfo).default({}),
  outputs: z.record(z.string(), PortInfo).default({}),
  isOutput: z.boolean().optional(),
});
export type NodeTypeInfo = z.infer<typeof NodeTypeInfo>;

const NodeTypeList = z.union([
  z.array(NodeTypeInfo),
  z
    .record(z.string(), z.unknown())
    .transform((rec) => Object.entries(rec).map(([type, v]) => NodeTypeInfo.parse({ type, ...(v as object) }))),
]);

/** Accepts `{ version, nodeTypes }` (array or record keyed by type) and the `nodes` / `types` spellings. */
export const CatalogJson = z
  .looseObject({
    version: z.union([z.string(), z.number()]).optional(),
    catalogVersion: z.union([z.string(), z.number()]).optional(),
    nodeTypes: NodeTypeList.optional(),
    nodes: NodeTypeList.optional(),
    types: NodeTypeList.optional(),
  })
  .transform((c) => ({
    version: String(c.catalogVersion ?? c.version ?? ''),
    nodeTypes: c.nodeTypes ?? c.nodes ?? c.types ?? [],
  }));

export interface Catalog {
  readonly version: string;
  readonly list: readonly NodeTypeInfo[];
  readonly byType: ReadonlyMap<string, NodeTypeInfo>;
}

export function makeCatalog(json: unknown): Catalog {
  const parsed = CatalogJson.parse(json);
  return {
    version: parsed.version,
    list: parsed.nodeTypes,
    byType: new Map(parsed.nodeTypes.map((t) => [t.type, t])),
  };
}

export const EMPTY_CATALOG: Catalog = { version: '', list: [], byType: new Map() };

/** Param defaults declared by the schema (`default` keys), the params a freshly added node starts with. */
export function defaultParams(info: NodeTypeInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(info.params.properties)) {
    if (schema.default !== undefined) out[key] = structuredClone(schema.default);
  }
  return out;
}
