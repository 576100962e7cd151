import { migrateDocument } from '@sdflow/nodes/graph/migrate.ts';
import { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { readPngText } from './png-text.ts';

// Reading a workflow from a .json file or from a PNG made by Save Image (its "workflow" text chunk).

export const WORKFLOW_PNG_KEY = 'workflow';

/** Parses and migrates a workflow document; throws an error saying what is wrong and where. */
export function parseWorkflow(value: unknown, source: string): Workflow {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${source}: not a workflow (expected a JSON object)`);
  const migrated = migrateDocument(value as Record<string, unknown>);
  if (!migrated.ok) throw new Error(`${source}: ${migrated.problem.message}`);
  const r = Workflow.safeParse(migrated.doc);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(
      `${source}: ${issue ? `${issue.path.join('.') || 'document'}: ${issue.message}` : 'invalid workflow'}`,
    );
  }
  return r.data;
}

export async function readWorkflowFile(file: File): Promise<Workflow> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (file.type === 'image/png' || file.name.toLowerCase().endsWith('.png')) {
    const text = (await readPngText(bytes)).get(WORKFLOW_PNG_KEY);
    if (text === undefined)
      throw new Error(`${file.name}: this PNG carries no workflow (no "${WORKFLOW_PNG_KEY}" text chunk)`);
    return parseWorkflow(parseJsonText(text, file.name), file.name);
  }
  return parseWorkflow(parseJsonText(new TextDecoder().decode(bytes), file.name), file.name);
}

function parseJsonText(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

export function workflowFileName(workflow: Workflow): string {
  const base = (workflow.meta.name ?? 'workflow').replace(/[^A-Za-z0-9._ -]+/g, '_').trim() || 'workflow';
  return `${base}.workflow.json`;
}

/** Offers the workflow as a download (the browser's save dialog or downloads folder). */
export function downloadWorkflow(workflow: Workflow): string {
  const name = workflowFileName(workflow);
  const url = URL.createObjectURL(new Blob([`${JSON.stringify(workflow, null, 2)}\n`], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  return name;
}
