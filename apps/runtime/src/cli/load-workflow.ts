import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { catalog } from '@sdflow/nodes/catalog.ts';
import { importDocument, importPngText } from '@sdflow/nodes/comfy/import-document.ts';
import { formatComfyReport } from '@sdflow/nodes/comfy/report.ts';
import { parseJson } from '@sdflow/nodes/graph/parse-json.ts';
import { type Problem, problem } from '@sdflow/nodes/graph/problem.ts';
import { validateWorkflow } from '@sdflow/nodes/graph/validate.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { PngTextError, readPngText } from '../server/png-text.ts';
import { applySets } from './apply-sets.ts';

// Read (JSON, or a PNG's text chunks), convert (a ComfyUI file, either format), override, validate: every problem at once, each naming the node
// and port or param. `--set` applies to the converted workflow, by the sdflow node ids the import report lists.

export type LoadResult = (
  | { ok: true; workflow: Workflow; migrations: string[] }
  | { ok: false; problems: Problem[] }
) & {
  /** The ComfyUI import report, as lines, when the file was ComfyUI's. */
  importReport?: string[];
};

export async function loadWorkflow(file: string, sets: readonly string[] = []): Promise<LoadResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    return {
      ok: false,
      problems: [problem('invalidDocument', `cannot read workflow file ${file}: ${reason}`)],
    };
  }
  const read = isPng(bytes) ? fromPng(bytes, file) : fromJson(bytes.toString('utf8'), file);
  if (!read.ok) return read;
  const { document, importReport } = read;
  const setProblems = applySets(document, sets);
  const result = validateWorkflow(document, catalog, { requireOutputs: true });
  const problems = [...setProblems, ...(result.ok ? [] : result.problems)];
  const report = importReport ? { importReport } : {};
  if (problems.length > 0) return { ok: false, problems, ...report };
  return result.ok ? { ...result, ...report } : { ok: false, problems, ...report };
}

/** Prints the import report of a ComfyUI file (nothing for an sdflow workflow). */
export function writeImportReport(loaded: LoadResult, stream: { write(text: string): unknown }): void {
  for (const line of loaded.importReport ?? []) stream.write(`${line}\n`);
}

type Read =
  | { ok: true; document: unknown; importReport?: string[] }
  | { ok: false; problems: Problem[]; importReport?: string[] };

function fromJson(text: string, file: string): Read {
  const parsed = parseJson(text);
  if (!parsed.ok) return { ok: false, problems: [parsed.problem] };
  const imported = importDocument(parsed.value, { source: path.basename(file), name: path.basename(file, '.json') });
  if (imported.kind === 'sdflow') return { ok: true, document: parsed.value };
  const { conversion } = imported;
  const importReport = formatComfyReport(conversion.report);
  return conversion.ok
    ? { ok: true, document: conversion.workflow, importReport }
    : { ok: false, problems: [problem('invalidDocument', conversion.message)], importReport };
}

/** A PNG made by Save Image, sdflow's or ComfyUI's: the workflow in its text chunks. */
function fromPng(bytes: Buffer, file: string): Read {
  let text: Record<string, string>;
  try {
    text = readPngText(bytes);
  } catch (err) {
    if (!(err instanceof PngTextError)) throw err;
    return { ok: false, problems: [problem('invalidDocument', `${file}: ${err.message}`)] };
  }
  const r = importPngText(text, PNG_WORKFLOW_KEYS, { name: path.basename(file, '.png') });
  const importReport = r.report ? { importReport: formatComfyReport(r.report) } : {};
  return r.ok
    ? { ok: true, document: r.document, ...importReport }
    : { ok: false, problems: [problem('invalidDocument', `${file}: ${r.message}`)], ...importReport };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const isPng = (bytes: Buffer): boolean => bytes.subarray(0, 8).equals(PNG_SIGNATURE);
/** The text keys sdflow's Save Image may have used for the workflow, most specific first. */
const PNG_WORKFLOW_KEYS = ['sdflow.workflow', 'sdflow-workflow', 'workflow'];
