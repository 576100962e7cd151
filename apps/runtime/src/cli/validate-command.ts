import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatProblem } from '@sdflow/nodes/graph/problem.ts';
import { workflowModelProblems } from './available-models.ts';
import { dataDirs } from './data-dirs.ts';
import { EXIT_INVALID, EXIT_OK, UsageError } from './exit-codes.ts';
import { loadWorkflow, writeImportReport } from './load-workflow.ts';

// `sdflow validate <workflow.json> [--models DIR]`: "ok", or every problem (each naming its node and port or
// param), models included: one the models folder lacks is named with those it has.

export const VALIDATE_USAGE = `usage: sdflow validate <workflow.json> [--models DIR]
  prints "ok" (exit 0), or every problem, each naming its node and port or param (exit 2)
  --models DIR          the models the workflow may name (default models, env SDFLOW_MODELS)`;

export async function validateCommand(
  argv: readonly string[],
  io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } = process,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${VALIDATE_USAGE}\n`);
    return EXIT_OK;
  }
  let values: { models?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { models: { type: 'string' } },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${VALIDATE_USAGE}`);
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? 'missing <workflow.json>' : `unexpected arguments: ${positionals.join(' ')}`,
    );
  const file = path.resolve(positionals[0]!);
  const read = await loadWorkflow(file);
  writeImportReport(read, io.stderr);
  const loaded = read.ok
    ? await workflowModelProblems(read.workflow, dataDirs(values).modelsDir).then((problems) =>
        problems.length > 0 ? { ok: false as const, problems } : read,
      )
    : read;
  if (loaded.ok) {
    const migrated = loaded.migrations.length > 0 ? ` (migrated: ${loaded.migrations.join(', ')})` : '';
    io.stdout.write(`ok${migrated}\n`);
    return EXIT_OK;
  }
  // The problems are this command's output, so they go to stdout (as linters do).
  io.stdout.write(`${file}: ${loaded.problems.length} problem(s)\n`);
  for (const p of loaded.problems) io.stdout.write(`  ${formatProblem(p)}\n`);
  return EXIT_INVALID;
}
