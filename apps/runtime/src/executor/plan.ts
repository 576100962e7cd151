import type { Catalog } from '@sdflow/nodes/catalog.ts';
import type { NodeType } from '@sdflow/nodes/define.ts';
import { planNodes } from '@sdflow/nodes/graph/order.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';

// Which nodes a run executes: everything the chosen output nodes depend on, in dependency order. Pure.
// The ordering itself is the shared one (nodes/src/graph/order.ts); this adds the checks an executor
// cannot skip even for a validated workflow, as errors that name the node.

export interface RunPlan {
  /** Node ids in execution order: every node appears after all nodes it takes inputs from. */
  readonly order: readonly string[];
  /** The output (sink) nodes the plan was built from. */
  readonly outputs: readonly string[];
}

export class PlanError extends Error {
  override readonly name = 'PlanError';
  constructor(
    message: string,
    readonly nodeId?: string,
    readonly port?: string,
  ) {
    super(message);
  }
}

export function lookupNodeType(catalog: Catalog, type: string): NodeType | undefined {
  return Object.hasOwn(catalog, type) ? catalog[type] : undefined;
}

/** Plans backwards from `targets` (default: every node whose type is an output node). Throws PlanError. */
export function planRun(workflow: Workflow, catalog: Catalog, targets?: readonly string[]): RunPlan {
  for (const [id, node] of Object.entries(workflow.nodes)) {
    for (const [port, ref] of Object.entries(node.inputs)) {
      if (!Object.hasOwn(workflow.nodes, ref.node)) {
        throw new PlanError(`node "${id}" input "${port}" refers to missing node "${ref.node}"`, id, port);
      }
    }
  }
  for (const id of targets ?? []) {
    if (!Object.hasOwn(workflow.nodes, id)) throw new PlanError(`output node "${id}" does not exist`, id);
  }
  const outputs =
    targets ??
    Object.keys(workflow.nodes).filter((id) => lookupNodeType(catalog, workflow.nodes[id]!.type)?.def.isOutput);
  if (outputs.length === 0)
    throw new PlanError('the workflow has no output node (e.g. Save Image), so nothing would run');
  let order: string[];
  try {
    order = planNodes(workflow, catalog, outputs);
  } catch (err) {
    throw new PlanError(err instanceof Error ? err.message : String(err));
  }
  for (const id of order) {
    const type = workflow.nodes[id]!.type;
    if (!lookupNodeType(catalog, type)) throw new PlanError(`node "${id}" has unknown type "${type}"`, id);
  }
  return { order, outputs: [...outputs] };
}
