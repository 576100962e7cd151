import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { z } from 'zod';
import { parseWorkflow } from './workflow-file.ts';

// The document survives reloads: written to local storage shortly after each change.

const KEY = 'sdflow.autosave.v1';

const Saved = z.object({
  workflow: z.unknown(),
  dirty: z.boolean(),
  seedModes: z.record(z.string(), z.enum(['fixed', 'randomize'])).default({}),
});
export interface Autosaved {
  readonly workflow: Workflow;
  readonly dirty: boolean;
  readonly seedModes: Record<string, 'fixed' | 'randomize'>;
}

export function readAutosave(storage: Storage = localStorage): Autosaved | undefined {
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return undefined;
    const saved = Saved.parse(JSON.parse(raw));
    return { workflow: parseWorkflow(saved.workflow, 'autosave'), dirty: saved.dirty, seedModes: saved.seedModes };
  } catch {
    return undefined; // a corrupt autosave is dropped rather than blocking the editor
  }
}

export function writeAutosave(value: Autosaved, storage: Storage = localStorage): void {
  try {
    storage.setItem(KEY, JSON.stringify(value));
  } catch {
    // Quota exceeded: keep editing; the next save may fit.
  }
}
