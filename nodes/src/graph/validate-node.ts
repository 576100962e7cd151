import type { z } from 'zod';
import type { NodeDefinition } from '../define.ts';
import { canConnect } from '../port-types.ts';
import { type Problem, problem } from './problem.ts';
import type { WorkflowNode } from './workflow.ts';

// Checks of one node against its definition and its neighbours: params, ports, references.

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v)));

const article = (expected: string) => {
  const type = expected === 'int' ? 'integer' : expected;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
};

function bound(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall): string {
  const big = issue.code === 'too_big';
  const limit = String(big ? issue.maximum : issue.minimum);
  if (!big && issue.origin === 'string' && limit === '1') return 'non-empty';
  const unit = issue.origin === 'string' ? ' characters long' : issue.origin === 'array' ? ' items' : '';
  if (issue.inclusive === false) return `${big ? 'less than' : 'more than'} ${limit}${unit}`;
  return `${big ? 'at most' : 'at least'} ${limit}${unit}`;
}

export function checkParams(id: string, node: WorkflowNode, def: NodeDefinition): Problem[] {
  const problems: Problem[] = [];
  const label = `node "${id}" (${def.type})`;
  const known = def.params.shape as Record<string, z.ZodType>;
  for (const key of Object.keys(node.params)) {
    if (!Object.hasOwn(known, key)) {
      const names = Object.keys(known);
      problems.push(
        problem(
          'unknownParam',
          `${label}: unknown param "${key}"; ${def.type} has ${names.length ? names.map((n) => `"${n}"`).join(', ') : 'no params'}`,
          { nodeId: id, param: key },
        ),
      );
    }
  }
  const result = def.params.safeParse(node.params);
  if (result.success) return problems;
  const reported = new Set<string>();
  for (const issue of result.error.issues) {
    const param = String(issue.path[0] ?? '');
    const value = node.params[param];
    const where = { nodeId: id, param };
    if (issue.code === 'invalid_type' && value === undefined) {
      if (reported.has(param)) continue;
      reported.add(param);
      problems.push(problem('missingParam', `${label}: param "${param}" is required`, where));
    } else if (issue.code === 'invalid_type') {
      problems.push(
        problem(
          'paramType',
          `${label}: param "${param}" must be ${article(issue.expected)}, got ${show(value)}`,
          where,
        ),
      );
    } else if (issue.code === 'too_big' || issue.code === 'too_small') {
      problems.push(
        problem('paramRange', `${label}: param "${param}" must be ${bound(issue)}, got ${show(value)}`, where),
      );
    } else {
      problems.push(problem('paramInvalid', `${label}: param "${param}": ${issue.message}, got ${show(value)}`, where));
    }
  }
  return problems;
}

/** What validation knows about every node: its parsed form and definition where those exist. */
export interface NodeFacts {
  readonly node?: WorkflowNode;
  readonly def?: NodeDefinition;
}

export function checkInputs(
  id: string,
  node: WorkflowNode,
  def: NodeDefinition,
  facts: ReadonlyMap<string, NodeFacts>,
): Problem[] {
  const problems: Problem[] = [];
  const label = `node "${id}" (${def.type})`;
  for (const [port, spec] of Object.entries(def.inputs)) {
    if (!spec.optional && !Object.hasOwn(node.inputs, port)) {
      problems.push(
        problem('missingInput', `${label}: required input "${port}" (${spec.type}) is not connected`, {
          nodeId: id,
          port,
        }),
      );
    }
  }
  for (const [port, ref] of Object.entries(node.inputs)) {
    const where = { nodeId: id, port };
    const spec = Object.hasOwn(def.inputs, port) ? def.inputs[port] : undefined;
    if (!spec) {
      const names = Object.keys(def.inputs);
      problems.push(
        problem(
          'unknownInput',
          `${label}: unknown input "${port}"; ${def.type} has ${names.length ? names.map((n) => `"${n}"`).join(', ') : 'no inputs'}`,
          where,
        ),
      );
      continue;
    }
    const source = facts.get(ref.node);
    if (!source) {
      problems.push(
        problem('missingNode', `${label}: input "${port}" refers to node "${ref.node}", which does not exist`, where),
      );
      continue;
    }
    if (!source.def) continue; // its own problem (unknown type, malformed node) is reported there
    const output = Object.hasOwn(source.def.outputs, ref.output) ? source.def.outputs[ref.output] : undefined;
    if (!output) {
      const names = Object.keys(source.def.outputs);
      problems.push(
        problem(
          'missingOutput',
          `${label}: input "${port}" refers to output "${ref.output}" of node "${ref.node}" (${source.def.type}), which has ${
            names.length ? `outputs ${names.map((n) => `"${n}"`).join(', ')}` : 'no outputs'
          }`,
          where,
        ),
      );
      continue;
    }
    const link = canConnect(output.type, spec.type);
    if (!link.ok) {
      problems.push(
        problem(
          'typeMismatch',
          `${label}: input "${port}" expects ${spec.type} but is connected to "${ref.node}".${ref.output} (${output.type}): ${link.reason}`,
          where,
        ),
      );
    }
  }
  return problems;
}
