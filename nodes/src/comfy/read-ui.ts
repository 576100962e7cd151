import {
  type ComfyAside,
  ComfyFormatError,
  type ComfyGraph,
  type ComfyInput,
  type ComfyLayout,
  type ComfyNode,
  isRecord,
} from './comfy-graph.ts';
import { namedWidgets } from './widget-order.ts';

// ComfyUI's editor format (LiteGraph's graph.serialize(), schema 0.4 and 1): nodes with positional widget values,
// links as [id, originId, originSlot, targetId, targetSlot, type] tuples or as objects. What the frontend resolves
// before queueing is resolved here too: reroutes, bypassed nodes (mode 4: inputs pass through by type), muted nodes
// (mode 2: left out), PrimitiveNode (its value is already in the widget it feeds).

const MUTED = 2;
const BYPASSED = 4;
const NOTE_TYPES = new Set(['Note', 'MarkdownNote']);

interface UiSlot {
  readonly name: string;
  readonly type: string;
  readonly link: number | null;
}
interface UiNode {
  readonly id: string;
  readonly type: string;
  readonly mode: number;
  readonly title?: string;
  readonly inputs: readonly UiSlot[];
  readonly outputTypes: readonly string[];
  readonly widgets: unknown;
  readonly layout?: ComfyLayout;
}
interface UiLink {
  readonly origin: string;
  readonly slot: number;
}

/** Whether a document is ComfyUI's editor format: a `nodes` array of { id, type } (sdflow's `nodes` is an object). */
export function isUiWorkflow(doc: unknown): doc is Record<string, unknown> & { nodes: unknown[] } {
  return (
    isRecord(doc) &&
    Array.isArray(doc.nodes) &&
    (Array.isArray(doc.links) || doc.links === undefined) &&
    doc.nodes.every((n) => isRecord(n) && (typeof n.id === 'number' || typeof n.id === 'string'))
  );
}

export function readUiWorkflow(doc: Record<string, unknown> & { nodes: unknown[] }): ComfyGraph {
  const uiNodes = new Map<string, UiNode>();
  for (const [i, raw] of doc.nodes.entries()) {
    const n = uiNode(raw, i);
    uiNodes.set(n.id, n);
  }
  const links = readLinks(doc.links);
  const follow = linkFollower(uiNodes, links);
  const nodes = new Map<string, ComfyNode>();
  const aside: ComfyAside[] = [];
  const notes: ComfyGraph['notes'][number][] = [];
  for (const n of uiNodes.values()) {
    if (NOTE_TYPES.has(n.type)) {
      const text = Array.isArray(n.widgets) && typeof n.widgets[0] === 'string' ? n.widgets[0] : '';
      notes.push({
        id: `note-${n.id}`,
        text,
        x: n.layout?.x ?? 0,
        y: n.layout?.y ?? 0,
        ...(n.layout?.width ? { width: n.layout.width } : {}),
      });
      aside.push({ id: n.id, type: n.type, reason: `kept as the note note-${n.id}` });
    } else if (n.type === 'Reroute') {
      aside.push({ id: n.id, type: n.type, reason: 'reroute: its links go straight to their source' });
    } else if (n.type === 'PrimitiveNode') {
      aside.push({ id: n.id, type: n.type, reason: 'primitive: its value is in the widgets it feeds' });
    } else if (n.mode === MUTED) {
      aside.push({ id: n.id, type: n.type, reason: 'muted (mode "never"): ComfyUI does not run it either' });
    } else if (n.mode === BYPASSED) {
      aside.push({ id: n.id, type: n.type, reason: 'bypassed: its inputs pass through to its outputs by type' });
    } else {
      nodes.set(n.id, comfyNode(n, follow));
    }
  }
  return {
    format: 'ui',
    nodes,
    aside,
    groups: readGroups(doc.groups),
    notes,
    ...viewportOf(doc.extra),
    subgraphs: readSubgraphs(doc.definitions),
  };
}

function comfyNode(n: UiNode, follow: (link: number) => ComfyInput | 'primitive'): ComfyNode {
  const inputs: Record<string, ComfyInput> = {};
  for (const [name, value] of Object.entries(namedWidgets(n.type, n.widgets) ?? {})) inputs[name] = { value };
  for (const slot of n.inputs) {
    if (slot.link === null) {
      if (!(slot.name in inputs)) inputs[slot.name] = { missing: 'not connected' };
      continue;
    }
    const source = follow(slot.link);
    // A PrimitiveNode's value is the widget's own value; a widget without a known position keeps the link's.
    if (source === 'primitive') {
      if (!(slot.name in inputs)) inputs[slot.name] = { missing: 'fed by a PrimitiveNode whose value is unknown' };
    } else {
      inputs[slot.name] = source;
    }
  }
  return {
    id: n.id,
    type: n.type,
    inputs,
    ...(n.title ? { title: n.title } : {}),
    ...(n.layout ? { layout: n.layout } : {}),
  };
}

/** Resolves a link to the node and output that really feed it, through reroutes and bypassed nodes. */
function linkFollower(
  nodes: ReadonlyMap<string, UiNode>,
  links: ReadonlyMap<number, UiLink>,
): (link: number) => ComfyInput | 'primitive' {
  const follow = (linkId: number, depth: number): ComfyInput | 'primitive' => {
    const link = links.get(linkId);
    if (!link) return { missing: `link ${linkId} is not in the file's links` };
    const origin = nodes.get(link.origin);
    if (!origin) return { missing: `link ${linkId} comes from node ${link.origin}, which is not in the file` };
    if (depth > nodes.size) return { missing: `link ${linkId} goes round a loop of reroutes or bypassed nodes` };
    if (origin.type === 'PrimitiveNode') return 'primitive';
    if (origin.mode === MUTED) return { missing: `its source ${origin.id} (${origin.type}) is muted` };
    if (origin.type === 'Reroute' || origin.mode === BYPASSED) {
      const type = origin.outputTypes[link.slot];
      const same = origin.inputs[link.slot];
      const through =
        origin.type === 'Reroute'
          ? origin.inputs[0]
          : same && same.type === type
            ? same
            : origin.inputs.find((s) => s.type === type);
      if (!through || through.link === null) {
        return { missing: `its source ${origin.id} (${origin.type}, bypassed) has no connected ${type ?? ''} input` };
      }
      return follow(through.link, depth + 1);
    }
    return { link: { node: origin.id, slot: link.slot } };
  };
  return (link) => follow(link, 0);
}

function uiNode(raw: unknown, index: number): UiNode {
  if (!isRecord(raw) || typeof raw.type !== 'string') {
    throw new ComfyFormatError(`nodes[${index}]: a ComfyUI node needs an id and a type`);
  }
  const inputs = (Array.isArray(raw.inputs) ? raw.inputs : []).filter(isRecord).map(
    (s): UiSlot => ({
      name: String(s.name ?? ''),
      type: String(s.type ?? ''),
      link: typeof s.link === 'number' ? s.link : null,
    }),
  );
  const outputTypes = (Array.isArray(raw.outputs) ? raw.outputs : []).map((s) => (isRecord(s) ? String(s.type) : ''));
  const layout = layoutOf(raw);
  return {
    id: String(raw.id),
    type: raw.type,
    mode: typeof raw.mode === 'number' ? raw.mode : 0,
    ...(typeof raw.title === 'string' ? { title: raw.title } : {}),
    inputs,
    outputTypes,
    widgets: raw.widgets_values,
    ...(layout ? { layout } : {}),
  };
}

/** `pos` and `size` are [x, y] arrays, or { 0: x, 1: y } objects in files from older frontends. */
function pair(v: unknown): [number, number] | undefined {
  const a = Array.isArray(v) ? v : isRecord(v) ? [v[0], v[1]] : undefined;
  return a && Number.isFinite(a[0]) && Number.isFinite(a[1]) ? [a[0] as number, a[1] as number] : undefined;
}

function layoutOf(raw: Record<string, unknown>): ComfyLayout | undefined {
  const pos = pair(raw.pos);
  if (!pos) return undefined;
  const size = pair(raw.size);
  return {
    x: pos[0],
    y: pos[1],
    ...(size ? { width: size[0], height: size[1] } : {}),
    ...(typeof raw.color === 'string' ? { color: raw.color } : {}),
  };
}

function readLinks(raw: unknown): Map<number, UiLink> {
  const out = new Map<number, UiLink>();
  for (const l of Array.isArray(raw) ? raw : []) {
    // v0.4: [id, originId, originSlot, targetId, targetSlot, type]; v1: { id, origin_id, origin_slot, ... }
    const [id, origin, slot] = Array.isArray(l) ? l : isRecord(l) ? [l.id, l.origin_id, l.origin_slot] : [];
    if (
      typeof id === 'number' &&
      (typeof origin === 'number' || typeof origin === 'string') &&
      typeof slot === 'number'
    )
      out.set(id, { origin: String(origin), slot });
  }
  return out;
}

function readGroups(raw: unknown): ComfyGraph['groups'] {
  return (Array.isArray(raw) ? raw : []).filter(isRecord).flatMap((g) => {
    const b = Array.isArray(g.bounding) ? g.bounding : [];
    if (b.length < 4 || !b.slice(0, 4).every((v) => Number.isFinite(v))) return [];
    const [x, y, width, height] = b as number[];
    return [
      {
        title: typeof g.title === 'string' ? g.title : 'Group',
        x: x!,
        y: y!,
        width: width!,
        height: height!,
        ...(typeof g.color === 'string' ? { color: g.color } : {}),
      },
    ];
  });
}

/** LiteGraph draws at (pos + offset) * scale; React Flow at pos * zoom + (x, y). */
function viewportOf(extra: unknown): { viewport?: { x: number; y: number; zoom: number } } {
  const ds = isRecord(extra) && isRecord(extra.ds) ? extra.ds : undefined;
  const offset = ds ? pair(ds.offset) : undefined;
  if (!ds || !offset || typeof ds.scale !== 'number' || !(ds.scale > 0 && ds.scale < 100)) return {};
  return { viewport: { x: offset[0] * ds.scale, y: offset[1] * ds.scale, zoom: ds.scale } };
}

function readSubgraphs(definitions: unknown): Map<string, string> {
  const list = isRecord(definitions) && Array.isArray(definitions.subgraphs) ? definitions.subgraphs : [];
  return new Map(
    list.filter(isRecord).map((s) => [String(s.id), typeof s.name === 'string' ? s.name : String(s.id)] as const),
  );
}
