import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { useConnection } from '@xyflow/react';
import type { Catalog } from '../catalog/catalog.ts';
import { checkConnection } from '../document/connection-check.ts';

// While an edge is dragged over a port that refuses it, says why.

export function ConnectionHint({ workflow, catalog }: { workflow: Workflow; catalog: Catalog }) {
  const reason = useConnection((c) => {
    if (!c.inProgress || !c.toHandle || c.isValid !== false) return undefined;
    const [from, to] = c.fromHandle.type === 'source' ? [c.fromHandle, c.toHandle] : [c.toHandle, c.fromHandle];
    const verdict = checkConnection(workflow, catalog, {
      source: from.nodeId,
      output: from.id ?? '',
      target: to.nodeId,
      input: to.id ?? '',
    });
    return verdict.ok ? undefined : verdict.reason;
  });
  if (!reason) return null;
  return (
    <div className="connection-hint" data-testid="connection-refusal" role="status">
      ✕ {reason}
    </div>
  );
}
