import path from 'node:path';
import { formatProblem } from '@sdflow/nodes/graph/problem.ts';
import { EXIT_INVALID, EXIT_OK, UsageError } from './exit-codes.ts';
import { loadWorkflow } from './load-workflow.ts';

// `sdflow validate <workflow.json>`: "ok", or every problem (each naming its node and port or param).

export const VALIDATE_USAGE = 'usage: sdflow validate <workflow.json>';

export async function validateCommand(
  argv: readonly string[],
  io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } = process,
): Promise<number> {
  if (argv.length !== 1 || argv[0]!.startsWith('-'))
    throw new UsageError(argv.length === 0 ? 'missing <workflow.json>' : `unexpected arguments: ${argv.join(' ')}`);
  const file = path.resolve(argv[0]!);
  const loaded = await loadWorkflow(file);
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
