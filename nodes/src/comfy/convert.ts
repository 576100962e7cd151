import { catalog } from '../catalog.ts';
import { type Ui, WORKFLOW_VERSION, type Workflow } from '../graph/workflow.ts';
import type { ComfyGraph } from './comfy-graph.ts';
import { Converter, Unmappable } from './converter.ts';
import { MAPPERS, OUTPUT_TYPES } from './node-mappers.ts';
import type { ComfyImportReport, ComfyReportEntry } from './report.ts';

// A ComfyUI graph (either format, read by read-ui.ts / read-api.ts) to an sdflow workflow and a report. Conversion
// starts from the output nodes, as ComfyUI runs only what outputs need; what cannot be mapped is reported with
// everything that depends on it, and the rest still converts. No output left = no workflow, and the report says why.

export interface ComfyConvertOptions {
  /** Where the document came from, for the report (a file name, "PNG prompt chunk"). */
  readonly source?: string;
  /** The workflow's meta.name. */
  readonly name?: string;
}

export type ComfyConversion =
  | { readonly ok: true; readonly workflow: Workflow; readonly report: ComfyImportReport }
  | { readonly ok: false; readonly message: string; readonly report: ComfyImportReport };

export function convertComfyGraph(graph: ComfyGraph, options: ComfyConvertOptions = {}): ComfyConversion {
  const c = new Converter(graph, MAPPERS);
  for (const node of graph.nodes.values()) {
    if (!OUTPUT_TYPES.has(node.type)) continue;
    try {
      c.outputs(node.id);
    } catch (err) {
      if (!(err instanceof Unmappable)) throw err;
    }
  }
  const source = options.source ?? (graph.format === 'ui' ? 'editor workflow' : 'API prompt');
  const report: ComfyImportReport = { format: graph.format, source, entries: reportEntries(c) };
  if (!Object.values(c.nodes).some((n) => catalog[n.type as keyof typeof catalog].def.isOutput)) {
    return { ok: false, message: nothingToRun(graph, report), report };
  }
  const workflow: Workflow = {
    version: WORKFLOW_VERSION,
    meta: {
      name: options.name ?? 'ComfyUI workflow',
      description: `Converted from a ComfyUI ${graph.format === 'ui' ? 'editor workflow' : 'API prompt'} (${source}).`,
    },
    nodes: c.nodes,
    ui: uiOf(c),
  };
  return { ok: true, workflow, report };
}

function nothingToRun(graph: ComfyGraph, report: ComfyImportReport): string {
  const outputs = [...graph.nodes.values()].filter((n) => OUTPUT_TYPES.has(n.type));
  if (outputs.length === 0) {
    return `nothing to run: the ComfyUI ${report.source} has no SaveImage or PreviewImage node`;
  }
  const unmapped = report.entries.filter((e) => e.status === 'unmapped');
  return `nothing to run: no output node of the ComfyUI ${report.source} could be mapped. ${unmapped
    .map((e) => `${e.comfyId} (${e.comfyType}): ${e.reason}`)
    .join('; ')}`;
}

function reportEntries(c: Converter): ComfyReportEntry[] {
  const entries: ComfyReportEntry[] = [];
  for (const node of c.graph.nodes.values()) {
    const base = { comfyId: node.id, comfyType: node.type, ...(node.title ? { title: node.title } : {}) };
    const notes = c.notes.get(node.id) ?? [];
    const result = c.results.get(node.id);
    const to = c.to.get(node.id) ?? [...new Set((c.valueUsers.get(node.id) ?? []).flatMap((u) => c.to.get(u) ?? []))];
    if (result instanceof Unmappable) {
      entries.push({ ...base, status: 'unmapped', to: [], reason: result.message, notes });
    } else if (to.length > 0) {
      entries.push({ ...base, status: 'mapped', to, notes });
    } else if (result) {
      entries.push({
        ...base,
        status: 'skipped',
        to: [],
        reason: 'used only by nodes that could not be mapped',
        notes,
      });
    } else if (MAPPERS[node.type]) {
      entries.push({
        ...base,
        status: 'skipped',
        to: [],
        reason: 'not connected to an output: ComfyUI would not run it either',
        notes,
      });
    } else {
      entries.push({ ...base, status: 'unmapped', to: [], reason: `${c.unknownReason(node.type)}`, notes });
    }
  }
  for (const a of c.graph.aside) {
    entries.push({ comfyId: a.id, comfyType: a.type, status: 'skipped', to: [], reason: a.reason, notes: [] });
  }
  return entries;
}

const COLUMN = 380;
const ROW = 260;

/** ComfyUI positions where the file has them; the rest in columns by depth (API prompts carry no layout). */
function uiOf(c: Converter): Ui {
  const nodes: Ui['nodes'] = {};
  const taken = new Set<string>();
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0;
    seen.add(id);
    const ins = Object.values(c.nodes[id]?.inputs ?? {});
    const d = ins.length === 0 ? 0 : 1 + Math.max(...ins.map((r) => depthOf(r.node, seen)));
    depth.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  for (const id of Object.keys(c.nodes)) {
    const layout = c.layouts.get(id);
    let x: number;
    let y: number;
    if (layout) {
      ({ x, y } = layout);
    } else {
      const d = depthOf(id, new Set());
      const row = rows.get(d) ?? 0;
      rows.set(d, row + 1);
      x = d * COLUMN;
      y = row * ROW;
    }
    // Copies of one ComfyUI node (a prompt pair used by two samplers with different seeds) would sit on each other.
    while (taken.has(`${x},${y}`)) {
      x += 40;
      y += 40;
    }
    taken.add(`${x},${y}`);
    nodes[id] = { x, y };
  }
  return {
    nodes,
    groups: c.graph.groups.map((g, i) => ({ id: `group-${i + 1}`, ...g })),
    notes: [...c.graph.notes],
    ...(c.graph.viewport ? { viewport: c.graph.viewport } : {}),
  };
}
