import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dataDirs } from './data-dirs.ts';
import { EXIT_OK, UsageError } from './exit-codes.ts';

// `sdflow export <model> <dir> [--precision fp32|fp16] [--target cpu|cuda|webgpu] [--models DIR]`:
// argument handling only; the export itself is models/export.ts (loaded on use: it pulls in the builders).

export const EXPORT_USAGE =
  'usage: sdflow export <model folder or name under --models> <out dir> [--precision fp32|fp16] [--target cpu|cuda|webgpu] [--models DIR]';

export async function exportCommand(
  argv: readonly string[],
  io: { stdout: NodeJS.WriteStream } = process,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${EXPORT_USAGE}\n`);
    return EXIT_OK;
  }
  let values: { precision?: string; target?: string; models?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { precision: { type: 'string' }, target: { type: 'string' }, models: { type: 'string' } },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${EXPORT_USAGE}`);
  }
  if (positionals.length !== 2) throw new UsageError(EXPORT_USAGE);
  const target = values.target ?? 'cpu';
  if (target !== 'cpu' && target !== 'cuda' && target !== 'webgpu')
    throw new UsageError(`--target must be cpu, cuda or webgpu, got "${target}"`);
  const precision = values.precision ?? (target === 'cpu' ? 'fp32' : 'fp16');
  if (precision !== 'fp32' && precision !== 'fp16')
    throw new UsageError(`--precision must be fp32 or fp16, got "${precision}"`);
  const [model, out] = positionals as [string, string];
  const { modelsDir } = dataDirs(values);
  const modelDir = existsSync(model) ? path.resolve(model) : path.join(modelsDir, model);
  if (!existsSync(modelDir))
    throw new UsageError(`no model folder "${model}" (looked in ${path.resolve(model)} and ${modelDir})`);
  const { exportModel } = await import('../models/export.ts');
  exportModel(modelDir, out, {
    precision,
    target,
    onPart: (part) => io.stdout.write(`wrote ${path.join(out, part)}\n`),
  });
  return EXIT_OK;
}
