import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalog } from '../catalog.ts';
import { runCostProblems } from './run-cost.ts';
import { validateWorkflow } from './validate.ts';
import type { Workflow } from './workflow.ts';

// Runs refused before they start, from the node types' cost models: the audit's 8192² image and 64 images decoded
// at once; ordinary runs (the examples, a 1024² batch of 4, 1000 steps at 1024²) pass.

const example = fileURLToPath(new URL('../../../workflows/text-to-image.workflow.json', import.meta.url));

function workflow(latent: Record<string, number>, denoise: Record<string, number> = {}, decode = {}): Workflow {
  const wf = JSON.parse(readFileSync(example, 'utf8'));
  Object.assign(wf.nodes.latent.params, latent);
  Object.assign(wf.nodes.denoise.params, denoise);
  Object.assign(wf.nodes.decode.params, decode);
  const r = validateWorkflow(wf, catalog, { requireOutputs: true });
  if (!r.ok) throw new Error(r.problems[0]?.message);
  return r.workflow;
}

describe('runCostProblems', () => {
  it.each([
    ['the example', {}, {}, {}],
    ['1024² x 4, 30 steps', { width: 1024, height: 1024, batchSize: 4 }, { steps: 30 }, {}],
    ['1024², 1000 steps', { width: 1024, height: 1024 }, { steps: 1000 }, {}],
    ['2048², 30 steps', { width: 2048, height: 2048 }, { steps: 30 }, {}],
    [
      '1024² x 64 decoded one at a time, 1 step',
      { width: 1024, height: 1024, batchSize: 64 },
      { steps: 1 },
      { slicing: true },
    ],
  ])('passes %s', (_name, latent, denoise, decode) => {
    expect(runCostProblems(workflow(latent, denoise, decode), catalog)).toEqual([]);
  });

  it('refuses an 8192² image: decode memory and UNet work, each with the estimate and the limit', () => {
    const problems = runCostProblems(workflow({ width: 8192, height: 8192 }, { steps: 30 }), catalog);
    expect(problems.map((p) => [p.code, p.nodeId])).toEqual([
      ['runTooLarge', 'decode'],
      ['runTooLarge', 'denoise'],
    ]);
    expect(problems[0]!.message).toBe(
      'node "decode": VAE decode of 1 8192x8192 image all at once needs about 257 GiB of working memory, over this ' +
        "server's 48 GiB limit; make the image smaller or the batch smaller, or turn on VAE slicing or tiling",
    );
    expect(problems[1]!.message).toMatch(/about 3840 UNet evaluations .* over this server's limit of 2400/);
  });

  it('refuses 64 images decoded at once, and honours configured limits', () => {
    const wf = workflow({ width: 1024, height: 1024, batchSize: 64 }, { steps: 1 });
    expect(runCostProblems(wf, catalog)[0]?.message).toMatch(/^node "decode": VAE decode of 64 1024x1024 images all/);
    const small = workflow({ width: 512, height: 512 }, { steps: 30 });
    expect(runCostProblems(small, catalog, { maxBytes: 2 ** 34, maxWork: 1 })[0]?.message).toMatch(
      /about 15 UNet evaluations .* limit of 1;/,
    );
  });
});
