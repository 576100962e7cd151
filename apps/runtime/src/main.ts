import { readFileSync } from 'node:fs';
import { EXIT_INVALID, UsageError } from './cli/exit-codes.ts';

// Composition root of the `sdflow` command: dispatches to the module that owns each subcommand.
// Each command's module loads only when that command runs, so the command starts fast.

const USAGE = `sdflow: SDXL workflows, headless or served to the editor

usage:
  sdflow run <workflow.json> [--out DIR] [--models DIR] [--cache DIR] [--device cpu|cuda|webgpu]
             [--set <node>.<param>=<value>]...
  sdflow validate <workflow.json> [--models DIR]
  sdflow serve [options]          the HTTP + WebSocket runtime and the editor
  sdflow worker --queue redis://HOST:PORT [--device cpu|cuda|cuda:N] [--models DIR]
                                  runs the runs of \`sdflow serve --queue\` (any number, any machine)
  sdflow export <model> <dir> [--precision fp32|fp16] [--target cpu|cuda|webgpu]
                                  build a model's ONNX graphs once, into a folder
  sdflow bench [options]          benchmarks
  sdflow --version
  sdflow <command> --help         a command's options

exit codes: 0 success, 1 the run failed, 2 invalid workflow or arguments
`;

type Command = (argv: readonly string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  run: async (argv) => (await import('./cli/run-command.ts')).runCommand(argv),
  validate: async (argv) => (await import('./cli/validate-command.ts')).validateCommand(argv),
  serve: async (argv) => (await import('./server/serve-command.ts')).serveCommand(argv),
  worker: async (argv) => (await import('./cli/worker-command.ts')).workerCommand(argv),
  export: async (argv) => (await import('./cli/export-command.ts')).exportCommand(argv),
  bench: async (argv) => {
    if (argv.includes('--throughput')) {
      const { throughputBench, THROUGHPUT_USAGE } = await import('./bench/queue-bench.ts');
      if (argv.includes('--help') || argv.includes('-h')) process.stdout.write(`${THROUGHPUT_USAGE}\n`);
      else await throughputBench(argv);
      return 0;
    }
    if (argv.includes('--help') || argv.includes('-h')) {
      const { BENCH_USAGE } = await import('./bench/bench-options.ts');
      const { THROUGHPUT_USAGE } = await import('./bench/queue-bench.ts');
      process.stdout.write(`${BENCH_USAGE}\n\n${THROUGHPUT_USAGE}\n`);
      return 0;
    }
    // bench() returns its report; a workflow that errored makes the command fail.
    const { bench } = await import('./bench/bench.ts');
    const report = await bench(argv);
    return report.workflows.some((w) => w.error) ? 1 : 0;
  },
};

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? EXIT_INVALID : 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    process.stdout.write(`sdflow ${version}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`sdflow: unknown command "${name}"\n\n${USAGE}`);
    return EXIT_INVALID;
  }
  try {
    return await command(rest);
  } catch (err) {
    // node:util parseArgs errors in a command's own parsing are usage errors too.
    const code = (err as { code?: unknown }).code;
    if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`sdflow ${name}: ${(err as Error).message}\n`);
      return EXIT_INVALID;
    }
    // A system error (ENOTDIR, EACCES, ...) is about the user's files: its message says it. Anything else is ours,
    // and its stack is what a bug report needs.
    const detail =
      err instanceof Error ? (typeof code === 'string' ? err.message : (err.stack ?? err.message)) : String(err);
    process.stderr.write(`sdflow ${name}: ${detail}\n`);
    return 1;
  }
}
