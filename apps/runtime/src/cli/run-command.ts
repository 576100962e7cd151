import { writeFile } from 'node:fs/promises';
import { freemem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatProblem } from '@sdflow/nodes/graph/problem.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { Device } from '@sdflow/nodes/values.ts';
import { backendSpec } from '../engine/backend-spec.ts';
import { Engine } from '../engine/engine.ts';
import type { RunResult } from '../executor/execute.ts';
import { cudaProviderProblem } from '../onnx/cuda-provider.ts';
import { workflowModelProblems } from './available-models.ts';
import { dataDirs } from './data-dirs.ts';
import { EXIT_INVALID, EXIT_OK, EXIT_RUN_FAILED, UsageError } from './exit-codes.ts';
import { loadWorkflow, writeImportReport } from './load-workflow.ts';
import { cpuMemoryEstimate, memoryWarning } from './memory-estimate.ts';
import { prepareOutputDir } from './output-dir.ts';
import { ProgressView } from './progress-view.ts';

// `sdflow run <workflow.json> [--out DIR] [--models DIR] [--device cpu|cuda|webgpu] [--set node.param=value]...`

export const RUN_USAGE = `usage: sdflow run <workflow.json> [options]
  --out DIR, -o DIR     where images and the run report go (default output, env SDFLOW_OUTPUT); checked before
                        anything runs
  --models DIR          diffusers model folders (default models, env SDFLOW_MODELS)
  --cache DIR           prompt-embedding cache (default .sdflow/cache, env SDFLOW_CACHE)
  --input DIR           where Load Image reads its files (default input, env SDFLOW_INPUT); never outside it
  --device D            cpu, cuda or webgpu: what the workflow's "auto" device params mean (default cpu).
                        cuda needs ONNX Runtime's CUDA provider installed (README.md, "GPU")
  --set NODE.PARAM=VALUE
                        override one param of one node before running, repeatable; VALUE is JSON when it parses
                        as JSON (--set denoise.steps=20, --set latent.width=1024), else a string
                        (--set prompt.prompt="a red fox")`;

const DEVICES = ['cpu', 'cuda', 'webgpu'] as const;

export interface RunArgs {
  readonly file: string;
  readonly outputDir: string;
  readonly modelsDir: string;
  readonly cacheDir: string;
  readonly inputDir: string;
  readonly device?: Device;
  readonly sets: string[];
}

export function parseRunArgs(argv: readonly string[]): RunArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${RUN_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? 'missing <workflow.json>' : `unexpected arguments: ${positionals.slice(1).join(' ')}`,
    );
  const device = values.device;
  if (device !== undefined && !(DEVICES as readonly string[]).includes(device)) {
    throw new UsageError(`--device must be one of ${DEVICES.join(', ')}, got "${device}"`);
  }
  return {
    file: path.resolve(positionals[0]!),
    ...dataDirs({ models: values.models, output: values.out, cache: values.cache, input: values.input }),
    ...(device ? { device: device as Device } : {}),
    sets: values.set ?? [],
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: 'string', short: 'o' },
      models: { type: 'string' },
      cache: { type: 'string' },
      input: { type: 'string' },
      device: { type: 'string' },
      set: { type: 'string', multiple: true },
    },
  });
}

/** Whether the run asks for CUDA: `--device cuda`, or a node's device param. */
function usesCuda(workflow: Workflow, device: Device | undefined): boolean {
  return device === 'cuda' || Object.values(workflow.nodes).some((n) => n.params.device === 'cuda');
}

export interface RunReport {
  readonly runId: string;
  readonly workflowFile: string;
  readonly status: RunResult['status'];
  readonly error?: string;
  readonly failedNode?: string;
  readonly startedAt: string;
  readonly wallMs: number;
  readonly outputDir: string;
  readonly files: string[];
  readonly nodes: {
    id: string;
    type: string;
    status: string;
    cached: boolean;
    wallMs?: number;
    peakBytes?: number;
    files: string[];
    error?: string;
  }[];
}

export function buildReport(args: RunArgs, result: RunResult, startedAt: Date): RunReport {
  return {
    runId: result.runId,
    workflowFile: args.file,
    status: result.status,
    ...(result.error ? { error: result.error } : {}),
    ...(result.status !== 'finished' && result.nodeId ? { failedNode: result.nodeId } : {}),
    startedAt: startedAt.toISOString(),
    wallMs: result.wallMs,
    outputDir: args.outputDir,
    files: result.files,
    nodes: result.nodes.map((n) => ({
      id: n.nodeId,
      type: n.type,
      status: n.status,
      cached: n.cached,
      ...(n.wallMs === undefined ? {} : { wallMs: n.wallMs }),
      ...(n.peakBytes === undefined ? {} : { peakBytes: n.peakBytes }),
      files: n.files,
      ...(n.error ? { error: n.error } : {}),
    })),
  };
}

export async function runCommand(
  argv: readonly string[],
  io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } = process,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${RUN_USAGE}\n`);
    return EXIT_OK;
  }
  const args = parseRunArgs(argv);
  const loaded = await loadWorkflow(args.file, args.sets);
  writeImportReport(loaded, io.stderr);
  if (!loaded.ok) {
    io.stderr.write(`${args.file}: ${loaded.problems.length} problem(s)\n`);
    for (const p of loaded.problems) io.stderr.write(`  ${formatProblem(p)}\n`);
    return EXIT_INVALID;
  }
  const workflow: Workflow = loaded.workflow;
  const modelProblems = await workflowModelProblems(workflow, args.modelsDir);
  if (modelProblems.length > 0) {
    io.stderr.write(`${args.file}: ${modelProblems.length} problem(s)\n`);
    for (const p of modelProblems) io.stderr.write(`  ${formatProblem(p)}\n`);
    return EXIT_INVALID;
  }
  const cudaProblem = usesCuda(workflow, args.device) ? cudaProviderProblem() : undefined;
  if (cudaProblem) throw new UsageError(cudaProblem);
  await prepareOutputDir(args.outputDir);
  if (!usesCuda(workflow, args.device)) {
    const warning = memoryWarning(await cpuMemoryEstimate(workflow, args.modelsDir), freemem());
    if (warning) io.stderr.write(`${warning}\n`);
  }
  const spec = backendSpec({
    modelsDir: args.modelsDir,
    outputDir: args.outputDir,
    cacheDir: args.cacheDir,
    inputDir: args.inputDir,
    ...(args.device ? { device: args.device } : {}),
  });
  const engine = await Engine.start({ backend: spec });
  const view = new ProgressView(io.stderr, io.stderr.isTTY === true, (id) => workflow.nodes[id]?.type ?? '?');
  engine.on((e) => {
    if (e.type !== 'preview') view.handle(e);
  });
  const startedAt = new Date();
  const runId = engine.queue(workflow);
  // First Ctrl-C interrupts the run (the report is still written); a second one exits at once.
  let interrupts = 0;
  const onSigint = (): void => {
    if (++interrupts > 1) process.exit(130);
    io.stderr.write('interrupting (Ctrl-C again to quit)\n');
    engine.interrupt(runId);
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await engine.waitFor(runId);
    const report = buildReport(args, result, startedAt);
    const reportFile = path.join(args.outputDir, `report-${runId}.json`);
    await writeFile(reportFile, `${JSON.stringify(report, null, 2)}\n`);
    for (const f of result.files) io.stdout.write(`${path.join(args.outputDir, f)}\n`);
    io.stdout.write(`report: ${reportFile}\n`);
    // Without a terminal the progress view has printed the outcome already; once is enough.
    if (result.status !== 'finished' && io.stderr.isTTY === true)
      io.stderr.write(`run ${result.status}${result.error ? `: ${result.error}` : ''}\n`);
    return result.status === 'finished' ? EXIT_OK : EXIT_RUN_FAILED;
  } finally {
    process.off('SIGINT', onSigint);
    await engine.close();
  }
}
