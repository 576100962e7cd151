import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { Problem } from '@sdflow/nodes/protocol/events.ts';
import type { DocAction } from '../document/actions.ts';
import { randomSeed } from '../nodes/param-widgets.ts';
import { queueRun } from './api.ts';

// Queues `count` runs. Seeds set to "randomize" get a fresh value before each run; the document keeps the
// last one, so saving afterwards reproduces the last image.

export function randomizeSeeds(
  workflow: Workflow,
  seedModes: Readonly<Record<string, string>>,
  draw: () => number = randomSeed,
): { workflow: Workflow; actions: DocAction[] } {
  const actions: DocAction[] = [];
  const nodes = { ...workflow.nodes };
  for (const [key, mode] of Object.entries(seedModes)) {
    if (mode !== 'randomize') continue;
    const dot = key.lastIndexOf('.');
    const id = key.slice(0, dot);
    const param = key.slice(dot + 1);
    const node = nodes[id];
    if (!node) continue;
    const value = draw();
    nodes[id] = { ...node, params: { ...node.params, [param]: value } };
    actions.push({ type: 'setParam', id, param, value });
  }
  return { workflow: actions.length ? { ...workflow, nodes } : workflow, actions };
}

export async function queueWithSeeds(
  workflow: Workflow,
  count: number,
  seedModes: Readonly<Record<string, string>>,
  edit: (a: DocAction) => void,
): Promise<{ problems: Problem[]; message?: string; runIds: string[]; workflows: Workflow[] }> {
  const runIds: string[] = [];
  const workflows: Workflow[] = [];
  let last: DocAction[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const { workflow: wf, actions } = randomizeSeeds(workflow, seedModes);
      const r = await queueRun(wf);
      if (!r.ok)
        return {
          problems: r.problems,
          message: r.problems.length ? `${r.message} — see the marked nodes` : r.message,
          runIds,
          workflows,
        };
      runIds.push(r.runId);
      workflows.push(wf);
      last = actions;
    }
    return { problems: [], runIds, workflows };
  } catch (e) {
    const message = `could not queue the run: ${e instanceof Error ? e.message : String(e)}`;
    return { problems: [], message, runIds, workflows };
  } finally {
    if (last.length) edit({ type: 'batch', actions: last });
  }
}
