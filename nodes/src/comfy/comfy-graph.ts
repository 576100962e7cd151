// ComfyUI's two file formats read into one shape: nodes keyed by id with named inputs, each a link, a value, or
// missing (with why). Layout (positions, groups, notes) travels beside it when the editor format provides it.

export type ComfyFormat = 'ui' | 'api';

export type ComfyInput =
  | { readonly link: { readonly node: string; readonly slot: number } }
  | { readonly value: unknown }
  | { readonly missing: string };

export interface ComfyLayout {
  readonly x: number;
  readonly y: number;
  readonly width?: number;
  readonly height?: number;
  readonly color?: string;
}

export interface ComfyNode {
  readonly id: string;
  readonly type: string;
  readonly title?: string;
  readonly inputs: Readonly<Record<string, ComfyInput>>;
  readonly layout?: ComfyLayout;
}

/** A node of the file that never becomes a graph node (muted, bypassed, reroute, note...), and why. */
export interface ComfyAside {
  readonly id: string;
  readonly type: string;
  readonly reason: string;
}

export interface ComfyGraph {
  readonly format: ComfyFormat;
  /** In file order. */
  readonly nodes: ReadonlyMap<string, ComfyNode>;
  readonly aside: readonly ComfyAside[];
  readonly groups: readonly { title: string; x: number; y: number; width: number; height: number; color?: string }[];
  readonly notes: readonly { id: string; text: string; x: number; y: number; width?: number }[];
  readonly viewport?: { x: number; y: number; zoom: number };
  /** Subgraph definitions by id: their instances are nodes whose type is that id. */
  readonly subgraphs: ReadonlyMap<string, string>;
}

/** A file that claims to be ComfyUI's but is malformed in a way that stops reading it. */
export class ComfyFormatError extends Error {}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
