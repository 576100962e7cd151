import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalog } from '../catalog.ts';
import { planNodes } from './order.ts';
import { validateWorkflow } from './validate.ts';

// Names that Object.prototype also has are ordinary ids, params and ports: found, refused or kept exactly like
// "bogus" would be. "__proto__" alone cannot survive as an object key, so it is refused by name.

const example = fileURLToPath(new URL('../../../workflows/text-to-image.workflow.json', import.meta.url));
const OBJECT_NAMES = ['constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

/** The example workflow as JSON text with every occurrence of node id `from` renamed to `to`. */
function renamed(from: string, to: string): string {
  const wf = JSON.parse(readFileSync(example, 'utf8')) as { nodes: Record<string, { inputs: object }> };
  const nodes = Object.entries(wf.nodes).map(([id, node]) => {
    const inputs = Object.entries(node.inputs).map(([port, ref]) => [
      port,
      { ...ref, node: ref.node === from ? to : ref.node },
    ]);
    return [id === from ? to : id, { ...node, inputs: Object.fromEntries(inputs) }];
  });
  return JSON.stringify({ ...wf, ui: undefined, nodes: Object.fromEntries(nodes) });
}

function withNode(patch: (node: Record<string, Record<string, unknown>>) => void): string {
  const wf = JSON.parse(readFileSync(example, 'utf8'));
  patch(wf.nodes.denoise);
  return JSON.stringify(wf);
}

describe('ids and keys named like Object.prototype members', () => {
  it.each(OBJECT_NAMES)('node id "%s" validates and is planned like any other', (name) => {
    const r = validateWorkflow(renamed('save', name), catalog, { requireOutputs: true });
    expect(r.ok).toBe(true);
    if (r.ok) expect(planNodes(r.workflow, catalog)).toContain(name);
    const model = validateWorkflow(renamed('model', name), catalog, { requireOutputs: true });
    expect(model.ok).toBe(true);
  });

  it.each(['bogus', ...OBJECT_NAMES])('unknown param "%s" is refused, naming it', (name) => {
    const r = validateWorkflow(
      withNode((n) => ((n.params as Record<string, unknown>)[name] = 1)),
      catalog,
    );
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems).toEqual([expect.objectContaining({ code: 'unknownParam', nodeId: 'denoise', param: name })]);
  });

  it.each(['bogus', ...OBJECT_NAMES])(
    'unknown input "%s" and a reference to an output of that name are refused',
    (name) => {
      const r = validateWorkflow(
        withNode((n) => {
          (n.inputs as Record<string, unknown>)[name] = { node: 'model', output: 'unet' };
          (n.inputs as Record<string, unknown>).unet = { node: 'model', output: name };
        }),
        catalog,
      );
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.problems.map((p) => [p.code, p.port]).sort()).toEqual([
          ['missingOutput', 'unet'],
          ['unknownInput', name],
        ]);
      }
    },
  );

  it.each(OBJECT_NAMES)('node type "%s" is an unknown node type', (name) => {
    const r = validateWorkflow(
      withNode((n) => (n.type = name as never)),
      catalog,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]).toMatchObject({ code: 'unknownNodeType', nodeId: 'denoise' });
  });

  it('refuses "__proto__" as a node id, param or port by name, instead of queueing a run that lost it', () => {
    const asId = validateWorkflow(renamed('save', '__proto__'), catalog, { requireOutputs: true });
    expect(asId.ok).toBe(false);
    if (!asId.ok) expect(asId.problems[0]).toMatchObject({ code: 'reservedKey', nodeId: '__proto__' });
    const asParam = validateWorkflow(
      withNode((n) => (n.params = JSON.parse('{"__proto__": {"steps": 2}}'))),
      catalog,
    );
    expect(asParam.ok).toBe(false);
    if (!asParam.ok)
      expect(asParam.problems).toEqual([expect.objectContaining({ code: 'reservedKey', param: '__proto__' })]);
    const asPort = validateWorkflow(
      withNode((n) => {
        // JSON.parse keeps "__proto__" as an own key, as a request body would; assignment would not.
        n.inputs = JSON.parse(
          `{"__proto__": {"node": "model", "output": "unet"}, ${JSON.stringify(n.inputs).slice(1)}`,
        );
      }),
      catalog,
    );
    expect(asPort.ok).toBe(false);
    if (!asPort.ok)
      expect(asPort.problems).toEqual([expect.objectContaining({ code: 'reservedKey', port: '__proto__' })]);
  });
});
