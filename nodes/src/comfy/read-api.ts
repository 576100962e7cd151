import { type ComfyGraph, type ComfyInput, type ComfyNode, isRecord } from './comfy-graph.ts';

// ComfyUI's API ("prompt") format: { "<id>": { class_type, inputs: { name: literal | [sourceId, slot] }, _meta } },
// as "Export (API)" writes it and POST /prompt takes it (there wrapped as { prompt: {...} }).

/** The node map of an API-format document (bare or wrapped in { prompt }), or undefined when it is not one. */
export function apiPromptOf(doc: unknown): Record<string, Record<string, unknown>> | undefined {
  if (!isRecord(doc)) return undefined;
  const map = isRecord(doc.prompt) && isPromptMap(doc.prompt) ? doc.prompt : doc;
  return isPromptMap(map) ? (map as Record<string, Record<string, unknown>>) : undefined;
}

function isPromptMap(map: Record<string, unknown>): boolean {
  const values = Object.values(map);
  return values.length > 0 && values.every((n) => isRecord(n) && typeof n.class_type === 'string');
}

export function readApiPrompt(prompt: Record<string, Record<string, unknown>>): ComfyGraph {
  const nodes = new Map<string, ComfyNode>();
  for (const [id, raw] of Object.entries(prompt)) {
    const inputs: Record<string, ComfyInput> = {};
    for (const [name, v] of Object.entries(isRecord(raw.inputs) ? raw.inputs : {})) inputs[name] = apiInput(v);
    const title = isRecord(raw._meta) && typeof raw._meta.title === 'string' ? raw._meta.title : undefined;
    nodes.set(id, { id, type: raw.class_type as string, inputs, ...(title ? { title } : {}) });
  }
  return { format: 'api', nodes, aside: [], groups: [], notes: [], subgraphs: new Map() };
}

/** A link is a two-element [sourceId, outputIndex]; array literals come wrapped as { __value__: [...] }. */
function apiInput(v: unknown): ComfyInput {
  if (Array.isArray(v) && v.length === 2 && (typeof v[0] === 'string' || typeof v[0] === 'number')) {
    if (typeof v[1] === 'number' && Number.isInteger(v[1])) return { link: { node: String(v[0]), slot: v[1] } };
  }
  if (isRecord(v) && '__value__' in v) return { value: v.__value__ };
  return { value: v };
}
