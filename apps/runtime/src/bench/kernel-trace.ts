// GPU kernel trace summary: reads the records that scripts/gpu/ktrace/kernel-trace.c (a CUPTI injection library)
// writes, one `start_ns<TAB>end_ns<TAB>stream<TAB>name` a line, splits them into UNet forwards at GPU idle gaps
// (between forwards the host runs JavaScript and I/O; inside one, kernels follow each other back to back) and says
// which kernels and which kinds of kernel take the GPU time of one forward. Pure: the CLI is kernel-trace-cli.ts.

import { median } from './time-runs.ts';

export interface TraceRecord {
  /** ns since the earliest record of the trace */
  start: number;
  end: number;
  stream: number;
  name: string;
}

export interface ParsedTrace {
  records: TraceRecord[];
  /** data lines that were not `start<TAB>end<TAB>stream<TAB>name` with end >= start */
  malformed: number;
  header?: string;
  /** key=value pairs of the `# end` line the library writes when the process exits cleanly */
  end?: Record<string, string>;
}

export interface Burst {
  index: number;
  start: number;
  end: number;
  /** ns in which at least one record ran (overlapping streams counted once) */
  busyNs: number;
  records: TraceRecord[];
}

export const KERNEL_CLASSES = [
  'gemm',
  'conv',
  'attention',
  'group norm',
  'layer norm',
  'memcpy/memset',
  'elementwise/other',
] as const;
export type KernelClass = (typeof KERNEL_CLASSES)[number];

// First match wins. Attention first (fmha kernels are cutlass GEMMs inside), norms before conv ('NHWC' in GroupNorm
// names), conv before gemm (cuDNN's Hopper convs are `sm90_xmma_fprop_implicit_gemm`, cuBLAS's GEMMs
// `sm90_xmma_gemm`/`nvjet`). Softmax counts as attention: in a UNet only unfused attention runs it.
const CLASS_PATTERNS: [KernelClass, RegExp][] = [
  ['memcpy/memset', /^\[mem(cpy|set)/],
  ['attention', /flash|fmha|attention|attn|sdpa|softmax/i],
  ['group norm', /group_?norm/i],
  ['layer norm', /layer_?norm/i],
  ['conv', /convol|conv2d|cudnn|fprop|dgrad|wgrad|implicit|winograd|nchwtonhwc|nhwctonchw/i],
  ['gemm', /gemm|gemv|cutlass|cublas|nvjet|xmma|matmul|wgmma|hmma|s16816|s1688/i],
];

export function classifyKernel(name: string): KernelClass {
  for (const [cls, re] of CLASS_PATTERNS) if (re.test(name)) return cls;
  return 'elementwise/other';
}

const DIGITS = /^\d+$/;

export function parseTrace(text: string): ParsedTrace {
  // CUPTI timestamps are ns on a clock near 1.7e18, past 2^53: exact as BigInt, then made relative to the first
  const raw: { start: bigint; end: bigint; stream: number; name: string }[] = [];
  let malformed = 0;
  let header: string | undefined;
  let end: Record<string, string> | undefined;
  for (const line of text.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (!l) continue;
    if (l.startsWith('#')) {
      if (l.startsWith('# end '))
        end = Object.fromEntries(
          l
            .slice(6)
            .split(' ')
            .map((kv) => kv.split('=', 2)),
        );
      else header ??= l.slice(1).trim();
      continue;
    }
    const t1 = l.indexOf('\t');
    const t2 = l.indexOf('\t', t1 + 1);
    const t3 = l.indexOf('\t', t2 + 1);
    const [s, e, st] = [l.slice(0, t1), l.slice(t1 + 1, t2), l.slice(t2 + 1, t3)];
    if (t1 < 0 || t2 < 0 || t3 < 0 || !DIGITS.test(s) || !DIGITS.test(e) || !DIGITS.test(st) || BigInt(e) < BigInt(s)) {
      malformed++;
      continue;
    }
    raw.push({ start: BigInt(s), end: BigInt(e), stream: Number(st), name: l.slice(t3 + 1) });
  }
  let origin = raw[0]?.start ?? 0n;
  for (const r of raw) if (r.start < origin) origin = r.start;
  const records = raw
    .map((r) => ({ start: Number(r.start - origin), end: Number(r.end - origin), stream: r.stream, name: r.name }))
    .sort((a, b) => a.start - b.start);
  return { records, malformed, header, end };
}

/** Length of the union of the records' intervals; `records` sorted by start. */
export function busyTime(records: readonly TraceRecord[]): number {
  let busy = 0;
  let coveredTo = Number.NEGATIVE_INFINITY;
  for (const r of records) {
    if (r.end <= coveredTo) continue;
    busy += r.end - Math.max(r.start, coveredTo);
    coveredTo = r.end;
  }
  return busy;
}

/** A new burst starts where the GPU has been idle (nothing running on any stream) for at least gapNs. */
export function splitBursts(records: readonly TraceRecord[], gapNs: number): Burst[] {
  const sorted = [...records].sort((a, b) => a.start - b.start);
  const groups: TraceRecord[][] = [];
  let coveredTo = Number.NEGATIVE_INFINITY;
  for (const r of sorted) {
    const last = groups[groups.length - 1];
    if (!last || r.start - coveredTo >= gapNs) groups.push([r]);
    else last.push(r);
    coveredTo = Math.max(coveredTo, r.end);
  }
  return groups.map((rs, index) => ({
    index,
    start: rs[0]!.start,
    end: rs.reduce((m, r) => Math.max(m, r.end), 0),
    busyNs: busyTime(rs),
    records: rs,
  }));
}

/**
 * The timed forwards: the last `forwards` bursts whose GPU busy time is within a factor 2 of a reference forward.
 * The reference is the median busy time of the forwards + 2 largest bursts (the warm-up forwards are among them, and
 * the median ignores a first forward inflated by cuDNN's algorithm search and tiny bursts of session set-up).
 */
export function selectForwards(bursts: readonly Burst[], forwards: number): { selected: Burst[]; warnings: string[] } {
  const warnings: string[] = [];
  if (bursts.length === 0) return { selected: [], warnings: ['no records'] };
  const largest = [...bursts].sort((a, b) => b.busyNs - a.busyNs).slice(0, forwards + 2);
  const ref = median(largest.map((b) => b.busyNs));
  const similar = bursts.filter((b) => b.busyNs >= ref / 2 && b.busyNs <= ref * 2);
  const selected = similar.slice(-forwards);
  if (selected.length < forwards)
    warnings.push(`only ${selected.length} of ${forwards} forwards found: is the gap threshold above the host's gaps?`);
  const first = selected[0];
  const last = selected[selected.length - 1];
  if (first && last && last.index - first.index + 1 !== selected.length)
    warnings.push(
      `other bursts lie between the timed forwards (#${first.index}..#${last.index}): a forward may be split; try a larger gap`,
    );
  const walls = selected.map((b) => b.end - b.start);
  if (walls.length > 1 && (Math.max(...walls) - Math.min(...walls)) / median(walls) > 0.25)
    warnings.push('the timed forwards differ by more than 25% in wall span');
  return { selected, warnings };
}

export interface KernelTraceOptions {
  /** GPU idle time that separates two bursts, ms */
  gapMs: number;
  /** how many timed forwards end the trace */
  forwards: number;
  /** how many kernel names to list */
  top: number;
}

export interface KernelTraceReport {
  version: 1;
  records: number;
  malformed: number;
  header?: string;
  end?: Record<string, string>;
  gapMs: number;
  bursts: { index: number; startMs: number; wallMs: number; busyMs: number; records: number }[];
  selected: number[];
  warnings: string[];
  perForward: { index: number; wallMs: number; busyMs: number; sumMs: number; records: number }[];
  /** means over the timed forwards; sumMs adds every record's duration (more than busyMs where streams overlap) */
  forward: { wallMs: number; busyMs: number; sumMs: number; records: number };
  /** ms per forward, share of sumMs */
  classes: { class: KernelClass; count: number; ms: number; share: number }[];
  top: { name: string; class: KernelClass; count: number; ms: number; share: number }[];
}

const ms = (ns: number) => ns / 1e6;
const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export function summariseTrace(trace: ParsedTrace, opts: KernelTraceOptions): KernelTraceReport {
  const bursts = splitBursts(trace.records, opts.gapMs * 1e6);
  const { selected, warnings } = selectForwards(bursts, opts.forwards);
  if (trace.malformed > 0) warnings.push(`${trace.malformed} malformed lines skipped`);
  if (!trace.end) warnings.push('no "# end" line: the traced process did not exit cleanly, the trace may be cut');
  else {
    if (trace.end.dropped && trace.end.dropped !== '0') warnings.push(`CUPTI dropped ${trace.end.dropped} records`);
    if (trace.end.flush && trace.end.flush !== '0')
      warnings.push(`the final CUPTI flush failed (CUptiResult ${trace.end.flush}): the last records may be missing`);
  }
  const n = Math.max(selected.length, 1);
  const perForward = selected.map((b) => ({
    index: b.index,
    wallMs: ms(b.end - b.start),
    busyMs: ms(b.busyNs),
    sumMs: ms(b.records.reduce((a, r) => a + r.end - r.start, 0)),
    records: b.records.length,
  }));
  const byName = new Map<string, { count: number; ns: number }>();
  for (const b of selected)
    for (const r of b.records) {
      const e = byName.get(r.name) ?? { count: 0, ns: 0 };
      e.count++;
      e.ns += r.end - r.start;
      byName.set(r.name, e);
    }
  const totalNs = [...byName.values()].reduce((a, e) => a + e.ns, 0);
  const share = (ns: number) => (totalNs > 0 ? ns / totalNs : 0);
  const byClass = new Map<KernelClass, { count: number; ns: number }>(
    KERNEL_CLASSES.map((c) => [c, { count: 0, ns: 0 }]),
  );
  for (const [name, e] of byName) {
    const c = byClass.get(classifyKernel(name))!;
    c.count += e.count;
    c.ns += e.ns;
  }
  return {
    version: 1,
    records: trace.records.length,
    malformed: trace.malformed,
    header: trace.header,
    end: trace.end,
    gapMs: opts.gapMs,
    bursts: bursts.map((b) => ({
      index: b.index,
      startMs: ms(b.start),
      wallMs: ms(b.end - b.start),
      busyMs: ms(b.busyNs),
      records: b.records.length,
    })),
    selected: selected.map((b) => b.index),
    warnings,
    perForward,
    forward: {
      wallMs: mean(perForward.map((f) => f.wallMs)),
      busyMs: mean(perForward.map((f) => f.busyMs)),
      sumMs: mean(perForward.map((f) => f.sumMs)),
      records: mean(perForward.map((f) => f.records)),
    },
    classes: KERNEL_CLASSES.map((c) => {
      const e = byClass.get(c)!;
      return { class: c, count: e.count / n, ms: ms(e.ns) / n, share: share(e.ns) };
    }),
    top: [...byName.entries()]
      .sort((a, b) => b[1].ns - a[1].ns)
      .slice(0, opts.top)
      .map(([name, e]) => ({
        name,
        class: classifyKernel(name),
        count: e.count / n,
        ms: ms(e.ns) / n,
        share: share(e.ns),
      })),
  };
}

const f = (x: number, d: number, w: number) => x.toFixed(d).padStart(w);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(6);

/** The printed table: bursts, the timed forwards, kernel classes, then the top kernel names (cut to 140 chars). */
export function formatReport(r: KernelTraceReport): string {
  const out: string[] = [];
  out.push(`kernel trace: ${r.records} records${r.header ? ` (${r.header})` : ''}`);
  if (r.end)
    out.push(
      `end: ${Object.entries(r.end)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
  const shown = r.bursts.length > 40 ? [...r.bursts.slice(0, 10), ...r.bursts.slice(-30)] : r.bursts;
  out.push(`${r.bursts.length} bursts at GPU gaps >= ${r.gapMs} ms (#index wall/busy ms, records):`);
  out.push(
    `  ${shown.map((b) => `#${b.index} ${b.wallMs.toFixed(2)}/${b.busyMs.toFixed(2)} (${b.records})`).join(', ')}`,
  );
  for (const w of r.warnings) out.push(`WARNING: ${w}`);
  if (r.perForward.length === 0) return out.join('\n');
  const fw = r.forward;
  out.push(
    `timed forwards: bursts ${r.selected.map((i) => `#${i}`).join(' ')}; per forward: wall ${fw.wallMs.toFixed(2)} ms, GPU busy ${fw.busyMs.toFixed(2)} ms (${pct(fw.busyMs / fw.wallMs).trim()} of wall), sum of record times ${fw.sumMs.toFixed(2)} ms, ${fw.records.toFixed(0)} records`,
  );
  out.push('burst | wall ms | busy ms |  sum ms | records');
  for (const p of r.perForward)
    out.push(
      `${`#${p.index}`.padStart(5)} | ${f(p.wallMs, 2, 7)} | ${f(p.busyMs, 2, 7)} | ${f(p.sumMs, 2, 7)} | ${f(p.records, 0, 7)}`,
    );
  out.push('', 'class             | ms/fwd |   %    | count/fwd');
  for (const c of r.classes)
    out.push(`${c.class.padEnd(17)} | ${f(c.ms, 3, 6)} | ${pct(c.share)} | ${f(c.count, 1, 9)}`);
  out.push('', `top ${r.top.length} kernels per forward`, '  # | ms/fwd |   %    | count | class             | name');
  for (const [i, k] of r.top.entries()) {
    const name = k.name.length > 140 ? `${k.name.slice(0, 137)}...` : k.name;
    out.push(
      `${f(i + 1, 0, 3)} | ${f(k.ms, 3, 6)} | ${pct(k.share)} | ${f(k.count, 1, 5)} | ${k.class.padEnd(17)} | ${name}`,
    );
  }
  return out.join('\n');
}
