import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalog } from '../catalog.ts';
import { defineNode } from '../define.ts';
import { migrateDocument, migrateNodeParams } from './migrate.ts';
import { validateWorkflow } from './validate.ts';

const readJson = (url: URL) => JSON.parse(readFileSync(url, 'utf8'));

describe('document migrations', () => {
  it('brings a version 0 file to the same graph as the version 1 example', () => {
    const v0 = readJson(new URL('./fixtures/version-0.workflow.json', import.meta.url));
    const v1 = readJson(new URL('../../../workflows/text-to-image.workflow.json', import.meta.url));
    const r = migrateDocument(v0);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.applied).toEqual(['document 0 -> 1']);
    expect(r.doc.version).toBe(1);
    expect(r.doc.meta).toEqual({ name: 'text to image (version 0 file)' });
    const strip = (nodes: Record<string, { typeVersion?: number }>) =>
      Object.fromEntries(Object.entries(nodes).map(([id, { typeVersion: _, ...n }]) => [id, n]));
    expect(strip(r.doc.nodes as never)).toEqual(strip(v1.nodes));
    expect((r.doc.ui as { nodes: unknown }).nodes).toEqual(
      Object.fromEntries(Object.entries(v1.ui.nodes).map(([id, p]) => [id, p])),
    );
    expect(validateWorkflow(v0, catalog).ok).toBe(true);
  });

  it('names the node a migration cannot read', () => {
    const r = migrateDocument({ version: 0, nodes: [{ id: 'a', type: 'x', inputs: { clip: 'b.clip' } }] });
    expect(r).toMatchObject({ ok: false, problem: { code: 'migrationFailed', nodeId: 'a' } });
    expect(r.ok || r.problem.message).toContain('input "clip"');
  });

  it('refuses versions it has no path from', () => {
    expect(migrateDocument({ version: -1 })).toMatchObject({ ok: false, problem: { code: 'unsupportedVersion' } });
    expect(migrateDocument({ version: '1' })).toMatchObject({ ok: false, problem: { code: 'unsupportedVersion' } });
    expect(migrateDocument({ version: 2 })).toMatchObject({ ok: false, problem: { code: 'unsupportedVersion' } });
  });
});

describe('node param migrations', () => {
  // A node type whose version 2 renamed "size" to "width" and added "height".
  const def = defineNode({
    type: 'resize',
    version: 2,
    title: 'Resize',
    category: 'image',
    description: 'test double',
    params: z.object({ width: z.number(), height: z.number() }),
    inputs: {},
    outputs: {},
    migrateParams: (params, from) => (from < 2 ? { width: params.size, height: params.size } : { ...params }),
  });

  it('upgrades params saved with an older node type version', () => {
    const node = { type: 'resize', typeVersion: 1, params: { size: 64 }, inputs: {} };
    expect(migrateNodeParams(node, def)).toEqual({ ...node, typeVersion: 2, params: { width: 64, height: 64 } });
  });

  it('leaves current and unversioned nodes alone', () => {
    const node = { type: 'resize', params: { width: 1, height: 2 }, inputs: {} };
    expect(migrateNodeParams(node, def)).toBe(node);
    expect(migrateNodeParams({ ...node, typeVersion: 2 }, def).params).toBe(node.params);
  });

  it('runs during validation', () => {
    const doc = { version: 1, nodes: { r: { type: 'resize', typeVersion: 1, params: { size: 8 } } } };
    const r = validateWorkflow(doc, { resize: { def, run: async () => ({}) } });
    expect(r.ok && r.workflow.nodes.r).toMatchObject({ typeVersion: 2, params: { width: 8, height: 8 } });
  });
});
