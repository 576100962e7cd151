import { z } from 'zod';
import { ComponentTiming } from '../backend/component-timing.ts';
import { PinningReport } from '../backend/pinning-report.ts';
import { median } from './time-runs.ts';

// What `sdflow bench` measures and writes (--json), and the table it prints.

export const NodeTiming = z.object({
  type: z.string(),
  ms: z.number(),
  cached: z.boolean(),
  /** Peak memory while the node ran, as the run's peak measures it (GPU from the driver on cuda, else RSS). */
  peakBytes: z.number().optional(),
});

export const RunMeasure = z.object({
  /** Wall time of the whole run, as the executor measured it. */
  wallMs: z.number(),
  /** Wall time less output nodes (PNG encoding and writing): images in memory, what diffusers' pipe() returns. */
  pipelineMs: z.number(),
  nodes: z.record(z.string(), NodeTiming),
  /** Where the time inside the nodes went (backends that report it): e.g. unet runs vs the denoise node's wall. */
  components: z.record(z.string(), ComponentTiming).optional(),
  /** Peak GPU memory of the process from the driver (cuda runs only). */
  gpuPeakBytes: z.number().optional(),
  gpuSource: z.string().optional(),
  /** Peak resident host memory of the process. */
  rssPeakBytes: z.number(),
});
export type RunMeasure = z.infer<typeof RunMeasure>;

export const WorkflowBench = z.object({
  file: z.string(),
  name: z.string(),
  warmups: z.number(),
  runs: z.array(RunMeasure),
  /** Denoise steps per unetDenoise node, for the per-step figure. */
  steps: z.record(z.string(), z.number()),
  median: z
    .object({
      wallMs: z.number(),
      pipelineMs: z.number(),
      nodes: z.record(z.string(), z.number()),
      /** Per node: the highest of its per-run peaks. */
      nodePeakBytes: z.record(z.string(), z.number()).optional(),
      unetStepMs: z.number().optional(),
      /** Median ms per ONNX Runtime call, per component (a UNet call is one step's forward). */
      componentRunMs: z.record(z.string(), z.number()).optional(),
      gpuPeakBytes: z.number().optional(),
      rssPeakBytes: z.number(),
    })
    .optional(),
  /** Per component with streamed weights on CUDA: the host memory page-locked for their copies, or why not. */
  pinning: z.record(z.string(), PinningReport).optional(),
  error: z.string().optional(),
});
export type WorkflowBench = z.infer<typeof WorkflowBench>;

export const BenchReport = z.object({
  date: z.string(),
  command: z.string(),
  host: z.object({ cpu: z.string(), cores: z.number(), node: z.string(), gpu: z.string().optional() }),
  options: z.record(z.string(), z.unknown()),
  workflows: z.array(WorkflowBench),
});
export type BenchReport = z.infer<typeof BenchReport>;

/** Medians over the timed runs of one workflow. */
export function summarize(runs: readonly RunMeasure[], steps: Record<string, number>): WorkflowBench['median'] {
  if (runs.length === 0) return undefined;
  const nodes: Record<string, number> = {};
  const nodePeakBytes: Record<string, number> = {};
  for (const id of Object.keys(runs[0]?.nodes ?? {})) {
    nodes[id] = median(runs.map((r) => r.nodes[id]?.ms ?? 0));
    const peaks = runs.flatMap((r) => r.nodes[id]?.peakBytes ?? []);
    if (peaks.length > 0) nodePeakBytes[id] = Math.max(...peaks);
  }
  const denoise = Object.entries(steps);
  const unetStepMs =
    denoise.length > 0
      ? denoise.reduce((a, [id]) => a + (nodes[id] ?? 0), 0) / denoise.reduce((a, [, n]) => a + n, 0)
      : undefined;
  const gpu = runs.map((r) => r.gpuPeakBytes).filter((x): x is number => x !== undefined);
  const componentRunMs: Record<string, number> = {};
  for (const name of Object.keys(runs[0]?.components ?? {})) {
    const per = runs.flatMap((r) => {
      const c = r.components?.[name];
      return c && c.runs > 0 ? [c.runMs / c.runs] : [];
    });
    if (per.length > 0) componentRunMs[name] = median(per);
  }
  return {
    wallMs: median(runs.map((r) => r.wallMs)),
    pipelineMs: median(runs.map((r) => r.pipelineMs)),
    nodes,
    ...(Object.keys(nodePeakBytes).length > 0 ? { nodePeakBytes } : {}),
    ...(unetStepMs === undefined ? {} : { unetStepMs }),
    ...(Object.keys(componentRunMs).length > 0 ? { componentRunMs } : {}),
    ...(gpu.length > 0 ? { gpuPeakBytes: Math.max(...gpu) } : {}),
    rssPeakBytes: Math.max(...runs.map((r) => r.rssPeakBytes)),
  };
}

const GiB = 1024 ** 3;
const sec = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(2));
const gib = (b: number | undefined) => (b === undefined ? '-' : (b / GiB).toFixed(2));

function table(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '))
    .join('\n');
}

/** The printed summary: one line per workflow, then per-node medians. */
export function formatReport(report: BenchReport): string {
  const head = ['workflow', 'runs', 'wall s', 'pipeline s', 'ms/step', 'peak GPU GiB', 'peak RSS GiB'];
  const rows = report.workflows.map((w) => {
    const m = w.median;
    if (!m) return [w.name, '0', `failed: ${w.error ?? '?'}`, '', '', '', ''];
    return [
      w.name,
      String(w.runs.length),
      sec(m.wallMs),
      sec(m.pipelineMs),
      m.unetStepMs?.toFixed(1) ?? '-',
      gib(m.gpuPeakBytes),
      gib(m.rssPeakBytes),
    ];
  });
  const parts = [`sdflow bench  ${report.date}  ${report.host.gpu ?? report.host.cpu}`, table([head, ...rows])];
  for (const w of report.workflows) {
    if (!w.median) continue;
    const peaks = w.median.nodePeakBytes ?? {};
    const nodeRows = Object.entries(w.median.nodes).map(([id, ms]) => [
      `  ${id} (${w.runs[0]?.nodes[id]?.type ?? '?'})`,
      ms.toFixed(1),
      gib(peaks[id]),
    ]);
    parts.push(`${w.name}: median ms per node\n${table([['  node', 'ms', 'peak GiB'], ...nodeRows])}`);
    const calls = Object.entries(w.median.componentRunMs ?? {});
    if (calls.length > 0) {
      // first timed run: session creations and weight loads (model offload) per component, with their time
      const perRun = (n: number | undefined, ms: number | undefined) => (n ? `${n} / ${(ms ?? 0).toFixed(0)} ms` : '-');
      const callRows = calls.map(([name, ms]) => {
        const c = w.runs[0]?.components?.[name];
        return [
          `  ${name}`,
          String(c?.runs ?? '?'),
          ms.toFixed(1),
          perRun(c?.creates, c?.createMs),
          perRun(c?.loads, c?.loadMs),
        ];
      });
      const head = ['  component', 'calls', 'ms per call', 'sessions made', 'weight loads'];
      parts.push(`${w.name}: ONNX Runtime calls per component\n${table([head, ...callRows])}`);
    }
    for (const [name, p] of Object.entries(w.pinning ?? {}))
      parts.push(
        `${w.name}: ${name}'s streamed weights ${'failed' in p ? `not page-locked: ${p.failed}` : `page-locked: ${gib(p.bytes)} GiB in ${p.ms.toFixed(0)} ms`}`,
      );
  }
  return parts.join('\n\n');
}
