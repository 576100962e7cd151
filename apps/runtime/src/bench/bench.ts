import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { catalog } from '@sdflow/nodes/catalog.ts';
import { formatProblem } from '@sdflow/nodes/graph/problem.ts';
import { validateWorkflow } from '@sdflow/nodes/graph/validate.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { z } from 'zod';
import { ComponentTiming } from '../backend/component-timing.ts';
import { PinningReport } from '../backend/pinning-report.ts';
import { Engine } from '../engine/engine.ts';
import type { ModuleSpec } from '../engine/messages.ts';
import type { RunResult } from '../executor/execute.ts';
import { type BenchBackendOptions, catalogSpec, defaultBackendSpec } from './bench-backend.ts';
import { type BenchOptions, parseBenchArgs } from './bench-options.ts';
import { type BenchReport, formatReport, type RunMeasure, summarize, type WorkflowBench } from './bench-report.ts';
import {
  gpuDescription,
  type MemoryMonitor,
  nvidiaSmiAvailable,
  nvidiaSmiMonitor,
  rssMonitor,
} from './memory-monitor.ts';
import { applyOverrides } from './workflow-overrides.ts';

// `sdflow bench`: runs each workflow through the Engine (worker thread, sessions reused across runs), warm-ups
// first and untimed, then N timed runs with the output cache cleared before each, so every node really runs.
// Reports per run wall time, per-node time and peak memory; medians; JSON and a printed table.
// Memory peaks are per process: for clean per-workflow GPU figures run one workflow per `sdflow bench` call.

export interface BenchIo {
  /** Where the table goes (stdout in the CLI). */
  write(text: string): void;
  /** Backend factory the engine loads (default: the runtime's ONNX backend). */
  backend?: (opts: BenchBackendOptions) => ModuleSpec;
}

const stdoutIo: BenchIo = { write: (text) => void process.stdout.write(text) };

export async function bench(argv: readonly string[], io: BenchIo = stdoutIo): Promise<BenchReport> {
  const opts = parseBenchArgs(argv);
  const outputDir = opts.output ?? mkdtempSync(path.join(os.tmpdir(), 'sdflow-bench-'));
  const gpu = opts.device === 'cuda' && nvidiaSmiAvailable();
  const report: BenchReport = {
    date: new Date().toISOString(),
    command: `sdflow bench ${argv.join(' ')}`,
    host: {
      cpu: os.cpus()[0]?.model ?? 'unknown cpu',
      cores: os.cpus().length,
      node: process.version,
      ...(gpu ? { gpu: gpuDescription() } : {}),
    },
    options: { ...opts, output: outputDir },
    workflows: [],
  };
  const makeBackend = io.backend ?? defaultBackendSpec;
  for (const file of opts.workflows) {
    report.workflows.push(
      await benchWorkflow(file, opts, makeBackend({ modelsDir: opts.models, outputDir, device: opts.device }), gpu),
    );
  }
  if (opts.json) writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
  io.write(`${formatReport(report)}\n`);
  return report;
}

async function benchWorkflow(
  file: string,
  opts: BenchOptions,
  backend: ModuleSpec,
  gpu: boolean,
): Promise<WorkflowBench> {
  const result: WorkflowBench = {
    file,
    name: path.basename(file).replace(/\.workflow\.json$|\.json$/, ''),
    warmups: 0,
    runs: [],
    steps: {},
  };
  let workflow: Workflow;
  try {
    const checked = validateWorkflow(readFileSync(file, 'utf8'), catalog, { requireOutputs: true });
    if (!checked.ok) throw new Error(checked.problems.map(formatProblem).join('; '));
    workflow = applyOverrides(checked.workflow, opts);
    result.steps = denoiseSteps(workflow);
  } catch (err) {
    return { ...result, error: `${file}: ${(err as Error).message}` };
  }

  const catalogModule = catalogSpec();
  const engine = await Engine.start({ backend, ...(catalogModule ? { catalog: catalogModule } : {}) });
  const rss = rssMonitor();
  const vram: MemoryMonitor | undefined = gpu ? nvidiaSmiMonitor() : undefined;
  try {
    for (let i = 0; i < opts.warmup; i++) {
      await runOnce(engine, workflow);
      result.warmups++;
    }
    for (let i = 0; i < opts.runs; i++) {
      rss.reset();
      vram?.reset();
      const before = (await storeStats(engine))?.timing;
      const perNode = vram ?? rss;
      const nodePeaks: Record<string, number> = {};
      const off = engine.on((e) => {
        // a segment per node: the time between nodes goes to no node
        if (e.type === 'nodeStarted') perNode.segment();
        else if (e.type === 'nodeFinished') nodePeaks[e.nodeId] = perNode.segment();
      });
      const r = await runOnce(engine, workflow).finally(off);
      const g = vram?.peak();
      const m = measure(r, workflow, rss.peak().peakBytes, g && { bytes: g.peakBytes, source: g.source }, nodePeaks);
      const after = (await storeStats(engine))?.timing;
      result.runs.push(after ? { ...m, components: timingDelta(before ?? {}, after) } : m);
    }
    result.median = summarize(result.runs, result.steps);
    const pinning = (await storeStats(engine))?.pinning;
    if (pinning && Object.keys(pinning).length > 0) result.pinning = pinning;
  } catch (err) {
    result.error = (err as Error).message;
  } finally {
    await rss.stop();
    await vram?.stop();
    await engine.close();
  }
  return result;
}

async function runOnce(engine: Engine, workflow: Workflow): Promise<RunResult> {
  await engine.clearCache();
  const r = await engine.waitFor(engine.queue(workflow));
  if (r.status !== 'finished')
    throw new Error(`run ${r.status}${r.nodeId ? ` at node ${r.nodeId}` : ''}: ${r.error ?? ''}`);
  return r;
}

/** The backend's per-component timings and host pinning (the ONNX backend's model store), or undefined for
 *  backends without. */
async function storeStats(engine: Engine): Promise<StoreStats | undefined> {
  let stats: unknown;
  try {
    stats = await engine.callBackend('storeStats');
  } catch {
    return undefined;
  }
  // checked where it crosses the worker boundary: a backend's stats that are not these are none
  const parsed = StoreStats.safeParse(stats);
  return parsed.success ? parsed.data : undefined;
}

const StoreStats = z.object({
  timing: z.record(z.string(), ComponentTiming),
  pinning: z.record(z.string(), PinningReport).optional(),
});
type StoreStats = z.infer<typeof StoreStats>;

function timingDelta(
  before: Record<string, ComponentTiming>,
  after: Record<string, ComponentTiming>,
): Record<string, ComponentTiming> {
  const out: Record<string, ComponentTiming> = {};
  for (const [name, a] of Object.entries(after)) {
    const b = before[name] ?? { creates: 0, createMs: 0, loads: 0, loadMs: 0, runs: 0, runMs: 0 };
    if (a.runs === b.runs && a.creates === b.creates) continue;
    out[name] = {
      creates: a.creates - b.creates,
      createMs: a.createMs - b.createMs,
      loads: a.loads - b.loads,
      loadMs: a.loadMs - b.loadMs,
      runs: a.runs - b.runs,
      runMs: a.runMs - b.runMs,
    };
  }
  return out;
}

function measure(
  r: RunResult,
  workflow: Workflow,
  rssPeakBytes: number,
  gpu: { bytes: number; source: string } | undefined,
  nodePeaks: Record<string, number>,
): RunMeasure {
  const nodes: RunMeasure['nodes'] = {};
  let outputMs = 0;
  for (const n of r.nodes) {
    const ms = n.wallMs ?? 0;
    const peak = nodePeaks[n.nodeId];
    nodes[n.nodeId] = { type: n.type, ms, cached: n.cached, ...(peak === undefined ? {} : { peakBytes: peak }) };
    const type = workflow.nodes[n.nodeId]?.type;
    if (type && catalog[type as keyof typeof catalog]?.def.isOutput) outputMs += ms;
  }
  return {
    wallMs: r.wallMs,
    pipelineMs: r.wallMs - outputMs,
    nodes,
    ...(gpu ? { gpuPeakBytes: gpu.bytes, gpuSource: gpu.source } : {}),
    rssPeakBytes,
  };
}

/** Steps of each unetDenoise node, defaults applied through the node type's own params schema. */
function denoiseSteps(workflow: Workflow): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, node] of Object.entries(workflow.nodes)) {
    if (node.type !== 'unetDenoise') continue;
    const p = catalog.unetDenoise.def.params.safeParse(node.params);
    if (p.success) out[id] = p.data.steps;
  }
  return out;
}
