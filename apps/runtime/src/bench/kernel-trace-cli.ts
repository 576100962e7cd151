// Entry of the GPU bundle's kernel-trace.mjs (scripts/gpu/bundle.sh; run by `run.sh ktrace`): summarises a kernel
// trace from scripts/gpu/ktrace/kernel-trace.c, plain or gzipped, into a printed table and a JSON file:
//   node kernel-trace.mjs kernels.tsv[.gz] [--forwards 5] [--gap-ms 1] [--top 30] [--json out.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { formatReport, type KernelTraceReport, parseTrace, summariseTrace } from './kernel-trace.ts';

const USAGE = 'usage: kernel-trace <kernels.tsv[.gz]> [--forwards N] [--gap-ms MS] [--top N] [--json FILE]';

/** Returns the exit code: 0 with timed forwards found, 1 without (the table still says what was found), 2 on bad use. */
export function kernelTraceCli(
  argv: string[],
  write: (text: string) => void = (t) => process.stdout.write(t),
): { code: number; report?: KernelTraceReport } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      forwards: { type: 'string', default: '5' },
      'gap-ms': { type: 'string', default: '1' },
      top: { type: 'string', default: '30' },
      json: { type: 'string' },
    },
  });
  const file = positionals[0];
  const [forwards, gapMs, top] = [Number(values.forwards), Number(values['gap-ms']), Number(values.top)];
  if (!file || !(forwards >= 1) || !(gapMs > 0) || !(top >= 1)) {
    write(`${USAGE}\n`);
    return { code: 2 };
  }
  const bytes = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  const trace = parseTrace(text);
  if (trace.records.length === 0) {
    write(`${file}: no kernel records (did the CUPTI library load? look for "ktrace:" lines in the program's log)\n`);
    return { code: 1 };
  }
  const report = summariseTrace(trace, { forwards: Math.floor(forwards), gapMs, top: Math.floor(top) });
  if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  write(`${formatReport(report)}\n`);
  return { code: report.perForward.length > 0 ? 0 : 1, report };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  try {
    process.exitCode = kernelTraceCli(process.argv.slice(2)).code;
  } catch (e) {
    process.stderr.write(`kernel-trace: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
