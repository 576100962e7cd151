import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalog } from '../catalog.ts';
import { planNodes } from './order.ts';
import { validateWorkflow } from './validate.ts';

// A 20,000-node chain (about 4 MB of JSON, under the server's body cap) must not hold a run up before its first
// node: validation and planning grow with the number of nodes and edges, not its square.

const example = fileURLToPath(new URL('../../../workflows/text-to-image.workflow.json', import.meta.url));

/** The example workflow with `n` denoise nodes in a chain between the empty latent and the decoder. */
function chainOf(n: number): string {
  const wf = JSON.parse(readFileSync(example, 'utf8'));
  const denoise = wf.nodes.denoise;
  delete wf.nodes.denoise;
  delete wf.ui;
  let previous = 'latent';
  for (let i = 0; i < n; i++) {
    const id = `denoise${i}`;
    wf.nodes[id] = { ...denoise, inputs: { ...denoise.inputs, latent: { node: previous, output: 'latent' } } };
    previous = id;
  }
  wf.nodes.decode.inputs.latent = { node: previous, output: 'latent' };
  return JSON.stringify(wf);
}

describe('a 20,000-node workflow', () => {
  it('validates and plans in well under a second, in dependency order', () => {
    const text = chainOf(20_000);
    const started = performance.now();
    const r = validateWorkflow(text, catalog, { requireOutputs: true });
    if (!r.ok) throw new Error(r.problems[0]?.message);
    const order = planNodes(r.workflow, catalog);
    const ms = performance.now() - started;
    expect(order).toHaveLength(20_005);
    expect(order.indexOf('denoise19999')).toBe(order.indexOf('decode') - 1);
    // The quadratic planner took 53 s here; the bound leaves room for a busy CI machine.
    expect(ms).toBeLessThan(2_500);
  });
});
