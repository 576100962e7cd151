import type { Catalog } from '../catalog.ts';
import type { ImageSize } from '../define.ts';
import { topoOrder } from './order.ts';
import { type Problem, problem } from './problem.ts';
import type { Workflow } from './workflow.ts';

// A run's cost estimated before it is queued, from each node type's cost model (NodeDefinition.cost): runs that
// could not fit (an 8192² image, 64 images decoded at once) are refused with the estimate and the limit, instead of
// holding the device for minutes and then failing or being killed.

export interface RunCostLimits {
  /** Working memory of the largest node (activations, not weights). */
  readonly maxBytes: number;
  /** UNet evaluations of the whole run, in units of one 1024x1024 image. */
  readonly maxWork: number;
}

/** 48 GiB: a 2048² image plainly decoded fits, a 4096² one needs tiling; 2,400 units: about 40 s on an H100. */
export const DEFAULT_RUN_COST_LIMITS: RunCostLimits = { maxBytes: 48 * 1024 ** 3, maxWork: 2_400 };

export interface NodeEstimate {
  readonly nodeId: string;
  readonly bytes: number;
  readonly work: number;
  readonly what: string;
}

/** Per node: working memory and work, where its node type has a cost model and its input size is known. */
export function estimateRunCost(workflow: Workflow, catalog: Catalog): NodeEstimate[] {
  const latents = new Map<string, ImageSize>();
  const estimates: NodeEstimate[] = [];
  for (const id of topoOrder(workflow)) {
    const node = workflow.nodes[id]!;
    const def = Object.hasOwn(catalog, node.type) ? catalog[node.type]?.def : undefined;
    if (!def?.cost) continue;
    const latentPort = Object.keys(def.inputs).find((port) => def.inputs[port]?.type === 'LATENT');
    const from = latentPort === undefined ? undefined : node.inputs[latentPort]?.node;
    const parsed = def.params.safeParse(node.params);
    if (!parsed.success) continue;
    const cost = def.cost(parsed.data, from === undefined ? undefined : latents.get(from));
    if (cost.latent) latents.set(id, cost.latent);
    if (cost.bytes || cost.work) {
      estimates.push({ nodeId: id, bytes: cost.bytes ?? 0, work: cost.work ?? 0, what: cost.what ?? def.title });
    }
  }
  return estimates;
}

/** Problems for a run that would pass a limit: the node, what dominates, the estimate and the limit. */
export function runCostProblems(
  workflow: Workflow,
  catalog: Catalog,
  limits: RunCostLimits = DEFAULT_RUN_COST_LIMITS,
): Problem[] {
  const estimates = estimateRunCost(workflow, catalog);
  const problems = estimates
    .filter((e) => e.bytes > limits.maxBytes)
    .map((e) =>
      problem(
        'runTooLarge',
        `node "${e.nodeId}": ${e.what} needs about ${gib(e.bytes)} of working memory, over this server's ${gib(limits.maxBytes)} limit; make the image smaller or the batch smaller, or turn on VAE slicing or tiling`,
        { nodeId: e.nodeId },
      ),
    );
  const work = estimates.reduce((sum, e) => sum + e.work, 0);
  if (work > limits.maxWork) {
    const biggest = estimates.reduce((a, b) => (b.work > a.work ? b : a));
    problems.push(
      problem(
        'runTooLarge',
        `the run needs about ${Math.round(work)} UNet evaluations of a 1024x1024 image (most in node "${biggest.nodeId}": ${biggest.what}), over this server's limit of ${limits.maxWork}; use fewer steps, a smaller batch or a smaller image`,
        { nodeId: biggest.nodeId },
      ),
    );
  }
  return problems;
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(bytes < 10 * 1024 ** 3 ? 1 : 0)} GiB`;
}
