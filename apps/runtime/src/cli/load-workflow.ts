import { readFile } from 'node:fs/promises';
import { catalog } from '@sdflow/nodes/catalog.ts';
import { parseJson } from '@sdflow/nodes/graph/parse-json.ts';
import type { Problem } from '@sdflow/nodes/graph/problem.ts';
import { validateWorkflow } from '@sdflow/nodes/graph/validate.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { applySets } from './apply-sets.ts';

// Read, override, validate: every problem at once, each naming the node and port or param.

export type LoadResult = { ok: true; workflow: Workflow; migrations: string[] } | { ok: false; problems: Problem[] };

export async function loadWorkflow(file: string, sets: readonly string[] = []): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    return {
      ok: false,
      problems: [{ code: 'invalidDocument', message: `cannot read workflow file ${file}: ${reason}` }],
    };
  }
  const parsed = parseJson(text);
  if (!parsed.ok) return { ok: false, problems: [parsed.problem] };
  const setProblems = applySets(parsed.value, sets);
  const result = validateWorkflow(parsed.value, catalog, { requireOutputs: true });
  const problems = [...setProblems, ...(result.ok ? [] : result.problems)];
  if (problems.length > 0) return { ok: false, problems };
  return result.ok ? result : { ok: false, problems };
}
