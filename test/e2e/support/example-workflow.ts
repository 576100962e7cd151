import { readFile } from 'node:fs/promises';
import path from 'node:path';

// workflows/text-to-image.workflow.json as the tests edit it: a fresh copy each time, changed by a callback.

export interface ExampleDoc {
  meta: { name?: string };
  nodes: Record<string, { type: string; params: Record<string, unknown>; inputs: Record<string, { node: string }> }>;
  ui: {
    nodes: Record<string, { x: number; y: number; color?: string }>;
    groups: { id: string; title: string; color?: string }[];
    notes: { id: string; text: string }[];
  };
}

export async function loadExample(repoRoot: string): Promise<(edit?: (doc: ExampleDoc) => void) => ExampleDoc> {
  const base = JSON.parse(
    await readFile(path.join(repoRoot, 'workflows/text-to-image.workflow.json'), 'utf8'),
  ) as ExampleDoc;
  return (edit = () => undefined) => {
    const doc = structuredClone(base);
    edit(doc);
    return doc;
  };
}

/** A kernel failure no validation can foresee: Empty Latent swapped for a Load Latent of a file that is not there. */
export function missingLatent(doc: ExampleDoc, file = 'missing.safetensors'): void {
  doc.nodes.latent = { type: 'loadLatent', params: { file }, inputs: {} };
}

export const MISSING_LATENT = /no file "missing\.safetensors"/;
