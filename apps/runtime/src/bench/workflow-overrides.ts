import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { BenchOptions } from './bench-options.ts';

// Bench overrides applied to a validated workflow's params, so one seed workflow serves the full-size GPU
// benchmark and the tiny CPU check alike. Keyed by param name: any node with the param gets it (model: only
// the two model loaders, since loadLatent names files).

export function applyOverrides(workflow: Workflow, o: BenchOptions): Workflow {
  const copy = structuredClone(workflow);
  for (const node of Object.values(copy.nodes)) {
    const p = node.params;
    if (o.device !== undefined && 'device' in p) p.device = o.device;
    if (o.model !== undefined && 'model' in p && (node.type === 'loadModel' || node.type === 'loadTinyVae'))
      p.model = o.model;
    if (o.steps !== undefined && 'steps' in p) p.steps = o.steps;
    if (o.size !== undefined && 'width' in p && 'height' in p) {
      p.width = o.size;
      p.height = o.size;
    }
    if (o.batch !== undefined && 'batchSize' in p) p.batchSize = o.batch;
  }
  return copy;
}
