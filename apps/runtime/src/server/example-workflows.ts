import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

// GET /api/workflows: the example workflows (workflows/*.workflow.json), for the editor's Open menu.

const SUFFIX = '.workflow.json';
/** An example bigger than this is skipped rather than sent. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

export interface ExampleWorkflow {
  readonly name: string;
  readonly workflow: unknown;
}

export async function listExampleWorkflows(dir: string): Promise<ExampleWorkflow[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch {
    return [];
  }
  const out: ExampleWorkflow[] = [];
  for (const file of names.filter((n) => n.endsWith(SUFFIX)).sort()) {
    try {
      const text = await readFile(path.join(dir, file), 'utf8');
      if (text.length > MAX_FILE_BYTES) continue;
      out.push({ name: file.slice(0, -SUFFIX.length), workflow: JSON.parse(text) as unknown });
    } catch {
      // an unreadable or malformed example is left out; `sdflow validate` reports it
    }
  }
  return out;
}
