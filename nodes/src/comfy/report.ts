import type { ComfyFormat } from './comfy-graph.ts';

// What an import did with each ComfyUI node: mapped (to which sdflow nodes, with notes on anything approximate),
// not mapped (why), or skipped (muted, reroute, note, not connected to an output). Every node of the file appears.

export type ComfyNodeStatus = 'mapped' | 'unmapped' | 'skipped';

export interface ComfyReportEntry {
  readonly comfyId: string;
  readonly comfyType: string;
  readonly title?: string;
  readonly status: ComfyNodeStatus;
  /** sdflow node ids this node became (or was folded into). */
  readonly to: readonly string[];
  /** Why it was not mapped or skipped. */
  readonly reason?: string;
  /** Values renamed, approximated or ignored on the way. */
  readonly notes: readonly string[];
}

export interface ComfyImportReport {
  readonly format: ComfyFormat;
  /** Where the document came from: a file name, "PNG prompt chunk"... */
  readonly source: string;
  readonly entries: readonly ComfyReportEntry[];
}

const FORMAT_LABEL: Record<ComfyFormat, string> = { ui: 'ComfyUI editor workflow', api: 'ComfyUI API prompt' };

function counts(report: ComfyImportReport): string {
  const n = (s: ComfyNodeStatus) => report.entries.filter((e) => e.status === s).length;
  return `${n('mapped')} node(s) mapped, ${n('unmapped')} not mapped, ${n('skipped')} skipped`;
}

/** The report as lines of text (the CLI prints them to stderr). */
export function formatComfyReport(report: ComfyImportReport): string[] {
  const lines = [`${FORMAT_LABEL[report.format]} (${report.source}): ${counts(report)}`];
  const order: ComfyNodeStatus[] = ['mapped', 'unmapped', 'skipped'];
  for (const status of order) {
    for (const e of report.entries.filter((x) => x.status === status)) {
      const what = `${e.comfyId} ${e.comfyType}${e.title && e.title !== e.comfyType ? ` "${e.title}"` : ''}`;
      const head =
        status === 'mapped'
          ? `  mapped      ${what} -> ${e.to.map((id) => `"${id}"`).join(', ')}`
          : `  ${status === 'unmapped' ? 'not mapped ' : 'skipped    '} ${what}: ${e.reason ?? ''}`;
      lines.push(head, ...e.notes.map((note) => `      ${note}`));
    }
  }
  return lines;
}

/** One paragraph for the editor's notice: the counts, then what was not mapped and what is approximate. */
export function summarizeComfyReport(report: ComfyImportReport): string {
  const unmapped = report.entries.filter((e) => e.status === 'unmapped');
  const notes = report.entries.flatMap((e) => e.notes.map((n) => `${e.comfyId} ${e.comfyType}: ${n}`));
  return [
    `Opened a ${FORMAT_LABEL[report.format]} (${report.source}): ${counts(report)}.`,
    ...(unmapped.length > 0
      ? [`Not mapped: ${unmapped.map((e) => `${e.comfyId} ${e.comfyType} (${e.reason})`).join('; ')}.`]
      : []),
    ...(notes.length > 0 ? [`Notes: ${notes.join('; ')}.`] : []),
  ].join(' ');
}
