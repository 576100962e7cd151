import { type Problem, problem } from '@sdflow/nodes/graph/problem.ts';

// `--set <node>.<param>=<value>`: the value is JSON when it parses as JSON (numbers, booleans, quoted
// strings), else the raw string. Applied to the raw document, which is validated afterwards.

export interface ParamOverride {
  readonly nodeId: string;
  readonly param: string;
  readonly value: unknown;
}

export function parseSet(text: string): ParamOverride | Problem {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  const dot = key.indexOf('.');
  if (eq < 0 || dot <= 0 || dot === key.length - 1) {
    return problem('invalidDocument', `--set "${text}": expected <node>.<param>=<value>`);
  }
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // not JSON: keep the string as typed
  }
  return { nodeId: key.slice(0, dot), param: key.slice(dot + 1), value };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Applies overrides in place; returns a problem per override that names a node the document lacks. */
export function applySets(doc: unknown, sets: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  for (const text of sets) {
    const set = parseSet(text);
    if ('code' in set) {
      problems.push(set);
      continue;
    }
    const nodes = isRecord(doc) && isRecord(doc.nodes) ? doc.nodes : undefined;
    const node = nodes && Object.hasOwn(nodes, set.nodeId) ? nodes[set.nodeId] : undefined;
    if (!isRecord(node)) {
      problems.push(
        problem('missingNode', `--set "${text}": the workflow has no node "${set.nodeId}"`, {
          nodeId: set.nodeId,
          param: set.param,
        }),
      );
      continue;
    }
    if (!isRecord(node.params)) node.params = {};
    (node.params as Record<string, unknown>)[set.param] = set.value;
  }
  return problems;
}
