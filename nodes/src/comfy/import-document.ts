import { type ComfyFormat, ComfyFormatError, type ComfyGraph } from './comfy-graph.ts';
import { type ComfyConversion, type ComfyConvertOptions, convertComfyGraph } from './convert.ts';
import { apiPromptOf, readApiPrompt } from './read-api.ts';
import { isUiWorkflow, readUiWorkflow } from './read-ui.ts';
import type { ComfyImportReport } from './report.ts';

// Where a document is loaded (CLI, server, editor): an sdflow workflow passes through; a ComfyUI document, in
// either format, is converted. PNGs: ComfyUI's Save Image writes the API prompt ("prompt") and the editor
// workflow ("workflow"); sdflow's writes its own workflow under "workflow" too, so the content decides.

export function detectComfyFormat(doc: unknown): ComfyFormat | undefined {
  if (isUiWorkflow(doc)) return 'ui';
  return apiPromptOf(doc) ? 'api' : undefined;
}

export type ImportedDocument =
  | { readonly kind: 'sdflow'; readonly document: unknown }
  | { readonly kind: 'comfy'; readonly conversion: ComfyConversion };

/** An sdflow document as it is (validation is the caller's), or a ComfyUI document converted. */
export function importDocument(doc: unknown, options: ComfyConvertOptions = {}): ImportedDocument {
  const api = apiPromptOf(doc);
  if (api) return { kind: 'comfy', conversion: convert(() => readApiPrompt(api), 'api', options) };
  if (isUiWorkflow(doc)) return { kind: 'comfy', conversion: convert(() => readUiWorkflow(doc), 'ui', options) };
  return { kind: 'sdflow', document: doc };
}

function convert(read: () => ComfyGraph, format: ComfyFormat, options: ComfyConvertOptions): ComfyConversion {
  const source = options.source ?? (format === 'ui' ? 'editor workflow' : 'API prompt');
  try {
    return convertComfyGraph(read(), { ...options, source });
  } catch (err) {
    if (!(err instanceof ComfyFormatError)) throw err;
    return { ok: false, message: `ComfyUI ${source}: ${err.message}`, report: { format, source, entries: [] } };
  }
}

export type PngImport =
  | { readonly ok: true; readonly document: unknown; readonly report?: ComfyImportReport }
  | {
      readonly ok: false;
      readonly code: 'noWorkflow' | 'badWorkflowText' | 'notConvertible';
      readonly message: string;
      readonly report?: ComfyImportReport;
    };

/**
 * The workflow in a PNG's text entries. A ComfyUI PNG converts from its "prompt" (what ran, with named inputs)
 * laid out as its "workflow" (positions, groups, notes); without a prompt, from the workflow. Otherwise the
 * first of `sdflowKeys` present is returned unparsed-as-sdflow (the caller validates it).
 */
export function importPngText(
  text: Readonly<Record<string, string>>,
  sdflowKeys: readonly string[],
  options: { name?: string } = {},
): PngImport {
  const prompt = parseOrUndefined(text.prompt);
  const workflow = parseOrUndefined(text.workflow);
  const api = apiPromptOf(prompt);
  const ui = isUiWorkflow(workflow) ? workflow : undefined;
  if (api || ui) {
    const source = api ? `PNG "prompt" text${ui ? ', laid out as its "workflow"' : ''}` : 'PNG "workflow" text';
    const conversion = convert(
      () => (api ? withLayout(readApiPrompt(api), ui ? readUiLayout(ui) : undefined) : readUiWorkflow(ui!)),
      api ? 'api' : 'ui',
      { ...options, source },
    );
    return conversion.ok
      ? { ok: true, document: conversion.workflow, report: conversion.report }
      : { ok: false, code: 'notConvertible', message: conversion.message, report: conversion.report };
  }
  const key = sdflowKeys.find((k) => k in text);
  if (!key)
    return { ok: false, code: 'noWorkflow', message: 'the PNG carries no workflow (it was not made by Save Image)' };
  try {
    return { ok: true, document: JSON.parse(text[key]!) };
  } catch (err) {
    return {
      ok: false,
      code: 'badWorkflowText',
      message: `the PNG's "${key}" text is not JSON: ${(err as Error).message}`,
    };
  }
}

function parseOrUndefined(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The editor workflow only for its layout: a malformed one is no reason to refuse the prompt. */
function readUiLayout(ui: Parameters<typeof readUiWorkflow>[0]): ComfyGraph | undefined {
  try {
    return readUiWorkflow(ui);
  } catch (err) {
    if (err instanceof ComfyFormatError) return undefined;
    throw err;
  }
}

/** An API prompt with the positions, groups and notes of the editor workflow saved beside it (same node ids). */
export function withLayout(api: ComfyGraph, ui: ComfyGraph | undefined): ComfyGraph {
  if (!ui) return api;
  const nodes = new Map(
    [...api.nodes].map(([id, n]) => {
      const layout = ui.nodes.get(id)?.layout;
      return [id, layout && !n.layout ? { ...n, layout } : n] as const;
    }),
  );
  return {
    ...api,
    nodes,
    aside: [...api.aside, ...ui.aside.filter((a) => !api.nodes.has(a.id))],
    groups: ui.groups,
    notes: ui.notes,
    ...(ui.viewport ? { viewport: ui.viewport } : {}),
  };
}
