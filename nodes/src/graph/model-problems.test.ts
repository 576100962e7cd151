import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalog } from '../catalog.ts';
import { modelProblems } from './model-problems.ts';
import { validateWorkflow } from './validate.ts';
import type { Workflow } from './workflow.ts';

const example = fileURLToPath(new URL('../../../workflows/text-to-image.workflow.json', import.meta.url));
const available = {
  models: [
    { id: 'tiny', vaeScaleFactor: 2 },
    { id: 'default', vaeScaleFactor: 8 },
  ],
  tinyVaes: [{ id: 'default' }],
};

function workflow(model: string, width: number): Workflow {
  const wf = JSON.parse(readFileSync(example, 'utf8'));
  wf.nodes.model.params.model = model;
  wf.nodes.latent.params.width = width;
  const r = validateWorkflow(wf, catalog);
  if (!r.ok) throw new Error(r.problems[0]?.message);
  return r.workflow;
}

describe('modelProblems', () => {
  it('accepts a model that is there, at a size its VAE can make', () => {
    expect(modelProblems(workflow('default', 64), catalog, available)).toEqual([]);
    expect(modelProblems(workflow('tiny', 66), catalog, available)).toEqual([]);
  });

  it('names a missing model, its node and param, and lists the available ones', () => {
    expect(modelProblems(workflow('nonexistent', 64), catalog, available)).toEqual([
      {
        code: 'unknownModel',
        message:
          'node "model" (loadModel): param "model": no model "nonexistent" in the models folder; available: "tiny", "default"',
        nodeId: 'model',
        param: 'model',
      },
    ]);
  });

  it("refuses a width that is not a multiple of the model's VAE scale factor", () => {
    expect(modelProblems(workflow('default', 100), catalog, available)).toEqual([
      expect.objectContaining({ code: 'latentSize', nodeId: 'latent', param: 'width' }),
    ]);
  });
});
