import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalog } from '../catalog.ts';
import { locateJsonError } from './parse-json.ts';
import type { Problem } from './problem.ts';
import { validateWorkflow } from './validate.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const read = (name: string) => readFileSync(`${fixtures}${name}.workflow.json`, 'utf8');
const problemsOf = (name: string): Problem[] => {
  const r = validateWorkflow(read(name), catalog);
  if (r.ok) throw new Error(`${name} validated`);
  return r.problems;
};

// One real bad file per problem kind: the code, the node and the port or param must all be named.
const cases: { file: string; code: string; nodeId?: string; port?: string; param?: string }[] = [
  { file: 'unsupported-version', code: 'unsupportedVersion' },
  { file: 'unknown-node-type', code: 'unknownNodeType', nodeId: 'upscale' },
  { file: 'missing-input', code: 'missingInput', nodeId: 'denoise', port: 'conditioning' },
  { file: 'type-mismatch', code: 'typeMismatch', nodeId: 'decode', port: 'latent' },
  { file: 'missing-node', code: 'missingNode', nodeId: 'prompt', port: 'clip' },
  { file: 'missing-output', code: 'missingOutput', nodeId: 'prompt', port: 'clip' },
  { file: 'cycle', code: 'cycle', nodeId: 'denoise', port: 'latent' },
  { file: 'param-type', code: 'paramType', nodeId: 'denoise', param: 'steps' },
  { file: 'param-range', code: 'paramRange', nodeId: 'denoise', param: 'cfg' },
  { file: 'param-invalid', code: 'paramInvalid', nodeId: 'denoise', param: 'scheduler' },
  { file: 'unknown-param', code: 'unknownParam', nodeId: 'denoise', param: 'sampler' },
  { file: 'missing-param', code: 'missingParam', nodeId: 'load', param: 'file' },
  { file: 'unknown-input', code: 'unknownInput', nodeId: 'denoise', port: 'mask' },
  { file: 'node-version-too-new', code: 'nodeVersionTooNew', nodeId: 'denoise' },
  { file: 'invalid-node', code: 'invalidNode', nodeId: 'decode', port: 'vae' },
];

describe('validateWorkflow on fixture files', () => {
  it('has a case for every fixture file', () => {
    const files = readdirSync(fixtures).map((f) => f.replace('.workflow.json', ''));
    const covered = new Set([...cases.map((c) => c.file), 'malformed', 'many-problems', 'version-0']);
    expect(files.filter((f) => !covered.has(f))).toEqual([]);
  });

  it.each(cases)('$file: $code names node $nodeId and port/param', ({ file, code, nodeId, port, param }) => {
    const problems = problemsOf(file);
    expect(problems).toHaveLength(1);
    const p = problems[0]!;
    expect(p.code).toBe(code);
    expect(p.nodeId).toBe(nodeId);
    expect(p.port).toBe(port);
    expect(p.param).toBe(param);
    for (const name of [nodeId, port, param]) if (name) expect(p.message).toContain(`"${name}"`);
  });

  it('malformed JSON: line and column of the error', () => {
    const [p, ...rest] = problemsOf('malformed');
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ code: 'malformedJson', line: 3, column: 3 });
    expect(p!.message).toContain('line 3, column 3');
  });

  it('names every node of a cycle', () => {
    const [p] = problemsOf('cycle');
    expect(p!.nodes).toEqual(['denoise', 'refine']);
    expect(p!.message).toContain('"denoise" -> "refine" -> "denoise"');
  });

  it('reports every problem at once', () => {
    const problems = problemsOf('many-problems');
    const summary = problems.map((p) => [p.code, p.nodeId, p.port ?? p.param]);
    expect(summary).toEqual(
      expect.arrayContaining([
        ['unknownNodeType', 'save', undefined],
        ['paramRange', 'denoise', 'steps'],
        ['paramType', 'denoise', 'cfg'],
        ['missingNode', 'prompt', 'clip'],
        ['typeMismatch', 'decode', 'latent'],
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it('accepts a parsed value as well as text, and migrates version 0', () => {
    const r = validateWorkflow(JSON.parse(read('version-0')), catalog);
    expect(r.ok && r.migrations).toEqual(['document 0 -> 1']);
  });
});

describe('validateWorkflow edge cases', () => {
  const good = () =>
    JSON.parse(readFileSync(new URL('../../../workflows/text-to-image.workflow.json', import.meta.url), 'utf8'));

  it('rejects non-objects, missing version and missing nodes', () => {
    expect(validateWorkflow('[1, 2]', catalog)).toMatchObject({ ok: false, problems: [{ code: 'invalidDocument' }] });
    expect(validateWorkflow({ nodes: {} }, catalog)).toMatchObject({
      ok: false,
      problems: [{ code: 'unsupportedVersion' }],
    });
    expect(validateWorkflow({ version: 1, nodes: [] }, catalog)).toMatchObject({
      ok: false,
      problems: [{ code: 'invalidDocument', path: ['nodes'] }],
    });
  });

  it('reads a file with a byte-order mark, and locates errors from every engine message form', () => {
    expect(validateWorkflow(`\ufeff${JSON.stringify(good())}`, catalog).ok).toBe(true);
    expect(locateJsonError('{\n  "a" 1}', "Expected ':' after property name in JSON at position 8")).toEqual({
      line: 2,
      column: 7,
    });
    expect(locateJsonError('{}', 'Expected x in JSON at position 8 (line 4 column 2)')).toEqual({ line: 4, column: 2 });
    expect(
      locateJsonError('{\n"a":', 'JSON.parse: unexpected end of data at line 2 column 5 of the JSON data'),
    ).toEqual({ line: 2, column: 5 });
  });

  it('reports an empty file as malformed at line 1', () => {
    expect(validateWorkflow('', catalog)).toMatchObject({
      ok: false,
      problems: [{ code: 'malformedJson', line: 1, column: 1 }],
    });
  });

  it('reports bad node ids and bad ui entries with the node id', () => {
    const doc = good();
    doc.nodes['bad id!'] = { type: 'offloadPolicy' };
    doc.ui.nodes.model = { x: 'left', y: 0 };
    const r = validateWorkflow(doc, catalog);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => [p.code, p.nodeId])).toEqual([
      ['invalidDocument', 'model'],
      ['invalidNodeId', 'bad id!'],
    ]);
  });

  it('requires an output node only when asked', () => {
    const doc = good();
    delete doc.nodes.save;
    expect(validateWorkflow(doc, catalog).ok).toBe(true);
    expect(validateWorkflow(doc, catalog, { requireOutputs: true })).toMatchObject({
      ok: false,
      problems: [{ code: 'noOutputs' }],
    });
  });

  it('fills document defaults and keeps params as written', () => {
    const doc = good();
    delete doc.ui;
    delete doc.nodes.save.params;
    const r = validateWorkflow(doc, catalog);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.workflow.nodes.save!.params).toEqual({});
    expect(r.workflow.nodes.denoise!.params).toEqual(doc.nodes.denoise.params);
  });

  it('reports a self-loop as a cycle', () => {
    const doc = good();
    doc.nodes.denoise.inputs.latent = { node: 'denoise', output: 'latent' };
    expect(validateWorkflow(doc, catalog)).toMatchObject({
      ok: false,
      problems: [{ code: 'cycle', nodeId: 'denoise', port: 'latent', nodes: ['denoise'] }],
    });
  });
});
