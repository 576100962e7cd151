import { importDocument, importPngText } from '@sdflow/nodes/comfy/import-document.ts';
import { summarizeComfyReport } from '@sdflow/nodes/comfy/report.ts';
import { migrateDocument } from '@sdflow/nodes/graph/migrate.ts';
import { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { readPngText } from './png-text.ts';

// Reading a workflow from a .json file or from a PNG made by Save Image (its "workflow" text chunk); ComfyUI's
// files (editor or API format, or its PNGs) are converted.

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
  return (await openWorkflowFile(file)).workflow;
}

/**
 * A workflow file: sdflow's (.json, or a PNG from Save Image) or ComfyUI's (either JSON format, or a PNG with its
 * "prompt"/"workflow" text), converted. `notice` summarises a ComfyUI import: what was mapped and what was not.
 */
export async function openWorkflowFile(file: File): Promise<{ workflow: Workflow; notice?: string }> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (file.type === 'image/png' || file.name.toLowerCase().endsWith('.png')) {
    const text = Object.fromEntries(await readPngText(bytes));
    const r = importPngText(text, [WORKFLOW_PNG_KEY], { name: file.name.replace(/\.png$/i, '') });
    if (!r.ok) {
      if (r.code === 'noWorkflow')
        throw new Error(`${file.name}: this PNG carries no workflow (no "${WORKFLOW_PNG_KEY}" text chunk)`);
      throw new Error(`${file.name}: ${r.message}`);
    }
    const workflow = parseWorkflow(r.document, file.name);
    return r.report ? { workflow, notice: summarizeComfyReport(r.report) } : { workflow };
  }
  const value = parseJsonText(new TextDecoder().decode(bytes), file.name);
  const imported = importDocument(value, { source: file.name, name: file.name.replace(/\.json$/i, '') });
  if (imported.kind === 'sdflow') return { workflow: parseWorkflow(value, file.name) };
  const { conversion } = imported;
  if (!conversion.ok) throw new Error(`${file.name}: ${conversion.message}`);
  return { workflow: parseWorkflow(conversion.workflow, file.name), notice: summarizeComfyReport(conversion.report) };
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
