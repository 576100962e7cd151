import type { NodeDefinition } from '../define.ts';
import { type Problem, problem } from './problem.ts';
import { WORKFLOW_VERSION, type WorkflowNode } from './workflow.ts';

// Forward migrations of the workflow document, one step per version, each small and tested.

type Doc = Record<string, unknown>;
/** Migrates a document of version `from` to version `from + 1`; throws MigrationError on a shape it cannot read. */
export type DocumentMigration = (doc: Doc) => Doc;

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    message: string,
    readonly nodeId?: string,
  ) {
    super(message);
  }
}

const isRecord = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Version 0 (the first prototype's files): `name` at the top, `nodes` as an array of
 * `{ id, type, params, inputs: { port: [nodeId, output] }, position: [x, y] }`.
 * Version 1: nodes keyed by id, inputs as `{ node, output }`, positions in `ui`.
 */
const v0ToV1: DocumentMigration = (doc) => {
  if (!Array.isArray(doc.nodes)) throw new MigrationError('version 0 document: "nodes" must be an array');
  const nodes: Doc = {};
  const uiNodes: Doc = {};
  doc.nodes.forEach((raw: unknown, i) => {
    if (!isRecord(raw) || typeof raw.id !== 'string')
      throw new MigrationError(`version 0 document: nodes[${i}] has no id`);
    const id = raw.id;
    const inputs: Doc = {};
    for (const [port, ref] of Object.entries(isRecord(raw.inputs) ? raw.inputs : {})) {
      if (!Array.isArray(ref) || ref.length !== 2) {
        throw new MigrationError(`version 0 node "${id}": input "${port}" must be [nodeId, output]`, id);
      }
      inputs[port] = { node: ref[0], output: ref[1] };
    }
    nodes[id] = { type: raw.type, params: raw.params ?? {}, inputs };
    if (Array.isArray(raw.position) && raw.position.length === 2) {
      uiNodes[id] = { x: raw.position[0], y: raw.position[1] };
    }
  });
  const { name, nodes: _old, ...rest } = doc;
  return {
    ...rest,
    version: 1,
    meta: typeof name === 'string' ? { name } : {},
    nodes,
    ui: { nodes: uiNodes },
  };
};

/** Keyed by the version a migration starts from. */
export const DOCUMENT_MIGRATIONS: Readonly<Record<number, DocumentMigration>> = { 0: v0ToV1 };

export type MigrateResult = { ok: true; doc: Doc; applied: string[] } | { ok: false; problem: Problem };

/** Brings a parsed document to WORKFLOW_VERSION; newer or unknown versions are problems. */
export function migrateDocument(doc: Doc, migrations = DOCUMENT_MIGRATIONS): MigrateResult {
  const version = doc.version;
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    const shown = version === undefined ? 'missing' : JSON.stringify(version);
    return fail('unsupportedVersion', `workflow "version" is ${shown}: expected an integer up to ${WORKFLOW_VERSION}`);
  }
  if (version > WORKFLOW_VERSION) {
    return fail(
      'unsupportedVersion',
      `workflow version ${version} is newer than this sdflow supports (${WORKFLOW_VERSION}): update sdflow`,
    );
  }
  const applied: string[] = [];
  let current = doc;
  for (let v = version; v < WORKFLOW_VERSION; v++) {
    const step = migrations[v];
    if (!step)
      return fail('unsupportedVersion', `workflow version ${version} is not supported (no migration from ${v})`);
    try {
      current = step(current);
    } catch (e) {
      const nodeId = e instanceof MigrationError ? e.nodeId : undefined;
      const message = e instanceof Error ? e.message : String(e);
      return {
        ok: false,
        problem: problem('migrationFailed', `cannot migrate from version ${v}: ${message}`, { nodeId }),
      };
    }
    applied.push(`document ${v} -> ${v + 1}`);
  }
  return { ok: true, doc: current, applied };
}

function fail(code: 'unsupportedVersion', message: string): MigrateResult {
  return { ok: false, problem: problem(code, message, { path: ['version'] }) };
}

/**
 * Upgrades one node's params saved with an older node type version, through the definition's migrateParams hook.
 * Nodes without typeVersion are taken as current. Returns the node unchanged when nothing applies.
 */
export function migrateNodeParams(node: WorkflowNode, def: NodeDefinition): WorkflowNode {
  const from = node.typeVersion;
  if (from === undefined || from >= def.version) return node;
  const params = def.migrateParams ? def.migrateParams(node.params, from) : node.params;
  return { ...node, params, typeVersion: def.version };
}
