import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalog } from './catalog.ts';
import { formatProblem } from './graph/problem.ts';
import { validateWorkflow } from './graph/validate.ts';

// Every workflow shipped in workflows/ (examples and the seed's configurations) validates against the catalog.
const root = fileURLToPath(new URL('../../workflows/', import.meta.url));
const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.workflow.json'))
  .sort();

describe('workflows/**/*.workflow.json', () => {
  it('includes the examples', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'text-to-image.workflow.json',
        'tiny-vae.workflow.json',
        'cached-embeddings.workflow.json',
      ]),
    );
  });

  it.each(files)('%s validates, with outputs to run', (file) => {
    const r = validateWorkflow(readFileSync(`${root}${file}`, 'utf8'), catalog, { requireOutputs: true });
    expect(r.ok ? [] : r.problems.map(formatProblem)).toEqual([]);
  });

  it.each(files.filter((f) => !f.includes('/')))(
    '%s has a name, a description and a position for every node',
    (file) => {
      const doc = JSON.parse(readFileSync(`${root}${file}`, 'utf8'));
      expect(doc.meta.name).toBeTruthy();
      expect(doc.meta.description).toBeTruthy();
      expect(Object.keys(doc.ui.nodes).sort()).toEqual(Object.keys(doc.nodes).sort());
    },
  );
});
