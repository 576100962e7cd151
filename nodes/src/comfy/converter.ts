import { catalog } from '../catalog.ts';
import type { InputRef, WorkflowNode } from '../graph/workflow.ts';
import type { ComfyGraph, ComfyLayout, ComfyNode } from './comfy-graph.ts';

// The state of one conversion: ComfyUI outputs resolved on demand (memoised), sdflow nodes created once, and
// what each ComfyUI node became. Node mappers (node-mappers.ts) use it; they throw Unmappable to refuse a node.

/** A ComfyUI node that cannot become sdflow nodes; the message says why, naming the input concerned. */
export class Unmappable extends Error {}

/** What travels along a ComfyUI output, in sdflow terms. */
export type ComfyValue =
  | {
      readonly kind: 'port';
      readonly type: string;
      readonly ref: InputRef;
      readonly loadModel?: string;
      /** CLIP through CLIPSetLastLayer: layers before the penultimate one (sdflow's clipSkip). */
      readonly clipSkip?: number;
    }
  /** CONDITIONING from a text encoder: it becomes part of an Encode Prompt node where a sampler uses it. */
  | {
      readonly kind: 'prompt';
      readonly clip: InputRef;
      readonly clipSkip?: number;
      readonly text: string;
      readonly zero: boolean;
      readonly from: readonly string[];
    }
  /** EmptyLatentImage: it becomes an Empty Latent node where a sampler uses it (the seed is the sampler's). */
  | {
      readonly kind: 'emptyLatent';
      readonly width: number;
      readonly height: number;
      readonly batchSize: number;
      readonly from: string;
    }
  | { readonly kind: 'value'; readonly value: unknown; readonly from: string };

export type Mapper = (c: Converter, node: ComfyNode) => ComfyValue[];

export interface NewNode {
  readonly type: keyof typeof catalog;
  readonly params: Record<string, unknown>;
  readonly inputs: Record<string, InputRef>;
  /** sdflow param -> the ComfyUI input it came from, so that an out-of-range value is reported by its ComfyUI name. */
  readonly sources?: Record<string, string>;
  /** The ComfyUI nodes this one is made of, when not just the one mapping it (the two prompts of a sampler). */
  readonly madeOf?: readonly string[];
  /** Nodes with the same type, params and inputs are made once (two samplers sharing one pair of prompts). */
  readonly shared?: boolean;
  readonly preferredId?: string;
  readonly layout?: ComfyLayout | undefined;
}

export class Converter {
  readonly nodes: Record<string, WorkflowNode> = {};
  readonly layouts = new Map<string, ComfyLayout>();
  readonly to = new Map<string, string[]>();
  readonly notes = new Map<string, string[]>();
  readonly results = new Map<string, ComfyValue[] | Unmappable>();
  /** Primitive nodes -> the ComfyUI nodes that took their value. */
  readonly valueUsers = new Map<string, string[]>();
  private readonly visiting = new Set<string>();
  private readonly sharedIds = new Map<string, string>();

  constructor(
    readonly graph: ComfyGraph,
    private readonly mappers: Readonly<Record<string, Mapper>>,
  ) {}

  /** The outputs of a ComfyUI node, mapping it on first use; throws its Unmappable. */
  outputs(id: string): ComfyValue[] {
    const done = this.results.get(id);
    if (done instanceof Unmappable) throw done;
    if (done) return done;
    const node = this.graph.nodes.get(id);
    if (!node) throw new Unmappable(`node ${id} is not in the file`);
    let result: ComfyValue[] | Unmappable;
    if (this.visiting.has(id)) return this.fail(id, new Unmappable('it is part of a cycle'));
    this.visiting.add(id);
    try {
      result = this.mapperOf(node)(this, node);
    } catch (err) {
      if (!(err instanceof Unmappable)) throw err;
      result = err;
    } finally {
      this.visiting.delete(id);
    }
    if (result instanceof Unmappable) {
      this.results.set(id, result);
      this.visitInputs(node);
      throw result;
    }
    this.results.set(id, result);
    return result;
  }

  /** Maps what feeds a refused node anyway, so that the report says what became of it too. */
  private visitInputs(node: ComfyNode): void {
    for (const input of Object.values(node.inputs)) {
      if (!('link' in input)) continue;
      try {
        this.outputs(input.link.node);
      } catch (err) {
        if (!(err instanceof Unmappable)) throw err;
      }
    }
  }

  private fail(id: string, err: Unmappable): never {
    this.results.set(id, err);
    throw err;
  }

  private mapperOf(node: ComfyNode): Mapper {
    const mapper = this.mappers[node.type];
    if (mapper) return mapper;
    return () => {
      throw new Unmappable(this.unknownReason(node.type));
    };
  }

  unknownReason(type: string): string {
    const subgraph = this.graph.subgraphs.get(type);
    return subgraph
      ? `an instance of the subgraph "${subgraph}": subgraphs are not converted (unpack it in ComfyUI first)`
      : 'no counterpart in sdflow yet';
  }

  /** What feeds input `name`, in sdflow terms. */
  input(node: ComfyNode, name: string): ComfyValue {
    const input = node.inputs[name];
    if (!input) throw new Unmappable(`input "${name}" is missing`);
    if ('missing' in input) throw new Unmappable(`input "${name}" is missing: ${input.missing}`);
    if ('value' in input) return { kind: 'value', value: input.value, from: node.id };
    const source = this.graph.nodes.get(input.link.node);
    const what = source ? `${source.id} (${source.type})` : input.link.node;
    let outs: ComfyValue[];
    try {
      outs = this.outputs(input.link.node);
    } catch (err) {
      if (!(err instanceof Unmappable)) throw err;
      throw new Unmappable(`input "${name}" comes from ${what}, which could not be mapped`);
    }
    const out = outs[input.link.slot];
    if (!out) throw new Unmappable(`input "${name}" links to output ${input.link.slot} of ${what}, which has none`);
    return out;
  }

  /** A literal input (a widget value, or a primitive node's value). */
  value(node: ComfyNode, name: string, fallback?: unknown): unknown {
    if (fallback !== undefined && (!node.inputs[name] || 'missing' in node.inputs[name]!)) return fallback;
    const v = this.input(node, name);
    if (v.kind !== 'value') throw new Unmappable(`input "${name}" takes a value, but it is linked to a node output`);
    if (v.from !== node.id) this.valueUsers.set(v.from, [...(this.valueUsers.get(v.from) ?? []), node.id]);
    return v.value;
  }

  number(node: ComfyNode, name: string, fallback?: number): number {
    const v = this.value(node, name, fallback);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Unmappable(`input "${name}" should be a number, not ${JSON.stringify(v)}`);
    }
    return v;
  }

  string(node: ComfyNode, name: string, fallback?: string): string {
    const v = this.value(node, name, fallback);
    if (typeof v !== 'string') throw new Unmappable(`input "${name}" should be text, not ${JSON.stringify(v)}`);
    return v;
  }

  port(node: ComfyNode, name: string, type: string): Extract<ComfyValue, { kind: 'port' }> {
    const v = this.input(node, name);
    if (v.kind === 'port' && v.type === type) return v;
    throw new Unmappable(`input "${name}" should be a ${type} output, but what feeds it maps to ${describe(v)}`);
  }

  note(comfyId: string, text: string): void {
    const list = this.notes.get(comfyId) ?? [];
    if (!list.includes(text)) list.push(text);
    this.notes.set(comfyId, list);
  }

  /** Creates an sdflow node for `from` after checking its params against the definition; returns its id. */
  add(from: ComfyNode, n: NewNode): string {
    const def = catalog[n.type].def;
    const parsed = def.params.safeParse(n.params);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const param = String(issue.path[0] ?? '');
      const source = n.sources?.[param] ?? param;
      throw new Unmappable(
        `input "${source}" = ${JSON.stringify(n.params[param])}: ${issue.message} (sdflow ${n.type}.${param})`,
      );
    }
    const key = n.shared ? JSON.stringify([n.type, n.params, n.inputs]) : undefined;
    let id = key === undefined ? undefined : this.sharedIds.get(key);
    if (id === undefined) {
      id = this.claimId(n.preferredId ?? from.id);
      // Titles set in ComfyUI's editor are the user's ("KSampler - BASE"); the API format's are display names.
      const title = !n.shared && this.graph.format === 'ui' ? from.title : undefined;
      this.nodes[id] = { type: n.type, params: n.params, inputs: n.inputs, ...(title ? { title } : {}) };
      if (n.layout) this.layouts.set(id, n.layout);
      if (key !== undefined) this.sharedIds.set(key, id);
    }
    for (const comfyId of n.madeOf ?? [from.id]) {
      const list = this.to.get(comfyId) ?? [];
      if (!list.includes(id)) list.push(id);
      this.to.set(comfyId, list);
    }
    return id;
  }

  private claimId(preferred: string): string {
    const base = preferred.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 56) || 'node';
    if (!(base in this.nodes)) return base;
    for (let i = 2; ; i++) if (!(`${base}_${i}` in this.nodes)) return `${base}_${i}`;
  }
}

function describe(v: ComfyValue): string {
  if (v.kind === 'port') return `a ${v.type} output`;
  if (v.kind === 'prompt') return 'conditioning';
  if (v.kind === 'emptyLatent') return 'an empty latent';
  return 'a value';
}
