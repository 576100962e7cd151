import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';

// The editable document: the workflow plus what is selected and the last refusal to tell the user about.

export interface Selection {
  readonly nodes: readonly string[];
  readonly edges: readonly string[];
}

export interface DocState {
  readonly workflow: Workflow;
  readonly selection: Selection;
  /** Why the last edit was refused (e.g. a type mismatch); cleared by the next accepted edit. */
  readonly notice?: string;
}

export const EMPTY_SELECTION: Selection = { nodes: [], edges: [] };

export function emptyWorkflow(): Workflow {
  return { version: 1, meta: {}, nodes: {}, ui: { nodes: {}, groups: [], notes: [] } };
}

export function initialDoc(workflow: Workflow = emptyWorkflow()): DocState {
  return { workflow, selection: EMPTY_SELECTION };
}

/** Edge ids are derived from the input they feed: one edge per input. */
export function edgeId(target: string, input: string): string {
  return `${target}:${input}`;
}

export function parseEdgeId(id: string): { target: string; input: string } | undefined {
  const at = id.indexOf(':');
  return at <= 0 ? undefined : { target: id.slice(0, at), input: id.slice(at + 1) };
}
