import type { z } from 'zod';
import type { Catalog } from '../catalog.ts';
import { findCycles } from './find-cycles.ts';
import { migrateDocument, migrateNodeParams } from './migrate.ts';
import { parseJson } from './parse-json.ts';
import { type Problem, problem } from './problem.ts';
import { checkInputs, checkParams, type NodeFacts } from './validate-node.ts';
import { NodeId, Ui, WORKFLOW_VERSION, Workflow, WorkflowNode } from './workflow.ts';

// Validation reports every problem at once: structure, then each node on its own, then the graph.

export interface ValidateOptions {
  /** Report a workflow without output nodes (nothing would run); on for queueing a run. */
  readonly requireOutputs?: boolean;
}

/** On success, `migrations` lists the migrations applied, e.g. "document 0 -> 1". */
export type ValidationResult =
  | { ok: true; workflow: Workflow; migrations: string[] }
  | { ok: false; problems: Problem[] };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates a workflow given as JSON text or as a parsed value; on success the workflow is migrated to the current version. */
export function validateWorkflow(input: unknown, catalog: Catalog, options: ValidateOptions = {}): ValidationResult {
  let value = input;
  if (typeof input === 'string') {
    const parsed = parseJson(input);
    if (!parsed.ok) return { ok: false, problems: [parsed.problem] };
    value = parsed.value;
  }
  if (!isRecord(value)) {
    return {
      ok: false,
      problems: [problem('invalidDocument', 'a workflow must be a JSON object with "version" and "nodes"')],
    };
  }
  const migrated = migrateDocument(value);
  if (!migrated.ok) return { ok: false, problems: [migrated.problem] };
  const doc = migrated.doc;
  const problems: Problem[] = [];

  const meta = Workflow.shape.meta.safeParse(doc.meta);
  if (!meta.success) problems.push(...structureProblems(meta.error.issues, ['meta']));
  const ui = Ui.optional().safeParse(doc.ui);
  if (!ui.success) problems.push(...structureProblems(ui.error.issues, ['ui']));

  const facts = new Map<string, NodeFacts>();
  if (!isRecord(doc.nodes)) {
    problems.push(
      problem('invalidDocument', 'workflow "nodes" must be an object keyed by node id', { path: ['nodes'] }),
    );
  } else {
    for (const [id, raw] of Object.entries(doc.nodes)) facts.set(id, nodeFacts(id, raw, catalog, problems));
    for (const [id, { node, def }] of facts) {
      if (!node || !def) continue;
      if ((node.typeVersion ?? def.version) <= def.version) problems.push(...checkParams(id, node, def));
      problems.push(...checkInputs(id, node, def, facts));
    }
    problems.push(...cycleProblems(facts));
    if (options.requireOutputs && ![...facts.values()].some((f) => f.def?.isOutput)) {
      problems.push(problem('noOutputs', 'the workflow has no output node (such as Save Image): nothing would run'));
    }
  }
  if (problems.length > 0) return { ok: false, problems };

  // Every part is parsed by now (nodes one by one, above): assembled, not parsed a second time, which would double
  // the time a large workflow waits before it runs.
  const nodes = Object.fromEntries([...facts].map(([id, f]) => [id, f.node!]));
  const workflow: Workflow = {
    version: WORKFLOW_VERSION,
    meta: meta.data!,
    nodes,
    ...(ui.data === undefined ? {} : { ui: ui.data }),
  };
  return { ok: true, workflow, migrations: migrated.applied };
}

function nodeFacts(id: string, raw: unknown, catalog: Catalog, problems: Problem[]): NodeFacts {
  if (!NodeId.safeParse(id).success) {
    problems.push(
      problem('invalidNodeId', `node id "${id}" is invalid: ids are 1-64 letters, digits, _ or -`, { nodeId: id }),
    );
  }
  if (id === RESERVED_KEY) {
    problems.push(problem('reservedKey', reservedMessage(`node id "${id}"`), { nodeId: id }));
    return {};
  }
  const reserved = reservedKeyProblem(id, raw);
  if (reserved) {
    problems.push(reserved);
    return {};
  }
  const parsed = WorkflowNode.safeParse(raw);
  if (!parsed.success) {
    problems.push(...structureProblems(parsed.error.issues, ['nodes', id]));
    return {};
  }
  const nodeType = Object.hasOwn(catalog, parsed.data.type) ? catalog[parsed.data.type] : undefined;
  if (!nodeType) {
    const message = `node "${id}": unknown node type "${parsed.data.type}"`;
    problems.push(problem('unknownNodeType', message, { nodeId: id }));
    return { node: parsed.data };
  }
  const def = nodeType.def;
  const tv = parsed.data.typeVersion;
  if (tv !== undefined && tv > def.version) {
    problems.push(
      problem(
        'nodeVersionTooNew',
        `node "${id}" (${def.type}) was saved with node type version ${tv}, newer than this sdflow knows (${def.version})`,
        { nodeId: id },
      ),
    );
  }
  return { node: migrateNodeParams(parsed.data, def), def };
}

// JSON may name a key "__proto__", but a JavaScript object built from it by assignment (as schema parsing does)
// turns it into the object's prototype and the entry vanishes: refused by name instead of lost silently. Every
// other name that Object.prototype also has ("constructor", "toString", ...) is an ordinary id or key.
const RESERVED_KEY = '__proto__';

const reservedMessage = (what: string) =>
  `${what} is reserved (JavaScript objects treat "__proto__" specially); choose another name`;

function reservedKeyProblem(id: string, raw: unknown): Problem | undefined {
  if (!isRecord(raw)) return undefined;
  for (const [field, as] of [
    ['params', 'param'],
    ['inputs', 'port'],
  ] as const) {
    const entries = raw[field];
    if (isRecord(entries) && Object.hasOwn(entries, RESERVED_KEY)) {
      return problem('reservedKey', reservedMessage(`node "${id}": ${as} "${RESERVED_KEY}"`), {
        nodeId: id,
        [as]: RESERVED_KEY,
      });
    }
  }
  return undefined;
}

function cycleProblems(facts: ReadonlyMap<string, NodeFacts>): Problem[] {
  const deps = new Map<string, string[]>();
  for (const [id, f] of facts) {
    deps.set(
      id,
      Object.values(f.node?.inputs ?? {})
        .map((r) => r.node)
        .filter((src) => facts.has(src)),
    );
  }
  return findCycles(deps).map(({ members, path }) => {
    const start = path[0] ?? '';
    const closing = path[path.length - 2] ?? start;
    const port = Object.entries(facts.get(start)?.node?.inputs ?? {}).find(([, r]) => r.node === closing)?.[0];
    const extra = members.length > path.length - 1 ? `; all nodes in the cycle: ${members.join(', ')}` : '';
    const closedBy = port ? ` (closed by input "${port}" of "${start}")` : '';
    return problem('cycle', `cycle: ${path.map((n) => `"${n}"`).join(' -> ')}${closedBy}${extra}`, {
      nodeId: start,
      nodes: [...members],
      ...(port ? { port } : {}),
    });
  });
}

/** zod issues of the document structure, with node id and port or param taken from the path. */
function structureProblems(issues: readonly z.core.$ZodIssue[], prefix: readonly (string | number)[]): Problem[] {
  return issues.map((issue) => {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    const where: Omit<Problem, 'code' | 'message'> = { path };
    let label = path.join('.') || 'workflow';
    let code: 'invalidDocument' | 'invalidNode' = 'invalidDocument';
    if (path[0] === 'nodes' && path.length > 1) {
      code = 'invalidNode';
      where.nodeId = String(path[1]);
      const rest = path.slice(3).join('.');
      if (path[2] === 'inputs' && path[3] !== undefined) where.port = String(path[3]);
      if (path[2] === 'params' && path[3] !== undefined) where.param = String(path[3]);
      const part = where.port ? `input "${rest}"` : where.param ? `param "${rest}"` : path.slice(2).join('.');
      label = `node "${where.nodeId}"${part ? `: ${part}` : ''}`;
    } else if (path[0] === 'ui' && path[1] === 'nodes' && path[2] !== undefined) {
      where.nodeId = String(path[2]);
    }
    return problem(code, `${label}: ${issue.message}`, where);
  });
}
