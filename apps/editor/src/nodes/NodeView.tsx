import { PORT_COLORS, type PortType } from '@sdflow/nodes/port-types.ts';
import { Handle, type NodeProps, Position } from '@xyflow/react';
import { memo, useMemo } from 'react';
import type { FlowNode } from '../canvas/flow-mapping.ts';
import { useEditor } from '../editor-context.ts';
import { problemsByNode } from '../runtime/run-state.ts';
import { useStore } from '../runtime/store.ts';
import { NodeStatus } from './NodeStatus.tsx';
import { ParamField } from './widgets/ParamField.tsx';

// The one node view: renders any node type from its catalogue entry. Memoised: a node re-renders only when
// its own workflow node, selection, run state or preview changes.

const portColor = (type: string) => PORT_COLORS[type as PortType] ?? '#9e9e9e';
const EMPTY: readonly never[] = [];
const FINAL = new Set(['done', 'cached', 'failed', 'interrupted']);

export const NodeView = memo(function NodeView({ id, data, selected }: NodeProps<FlowNode>) {
  const { catalog, session, stale } = useEditor();
  const node = data.node;
  const info = catalog.byType.get(node.type);
  const lastRun = useStore(session.runs, (s) => s.nodes[id]);
  const edited = useStore(stale, (s) => s.has(id));
  // A result of a graph edited since (an old error, a timing) is not shown; waiting and running states are.
  const run = lastRun && !(edited && FINAL.has(lastRun.status)) ? lastRun : undefined;
  const allProblems = useStore(session.runs, (s) => s.problems);
  const problems = useMemo(
    () => (allProblems.length ? (problemsByNode(allProblems).get(id) ?? EMPTY) : EMPTY),
    [allProblems, id],
  );
  const preview = useStore(session.previews, (p) => p[id]);

  const badPorts = new Set(
    [...problems.map((p) => p.port), run?.status === 'failed' ? run.port : undefined].filter(Boolean),
  );
  const badParams = new Map(problems.filter((p) => p.param).map((p) => [p.param!, p.message]));
  if (run?.status === 'failed' && run.param) badParams.set(run.param, run.error ?? 'failed');
  const status = problems.length ? 'invalid' : (run?.status ?? 'idle');

  if (!info) {
    return (
      <div
        className={`sd-node sd-node-unknown${selected ? ' selected' : ''}`}
        data-testid={`node-${id}`}
        data-node-type={node.type}
      >
        <div className="sd-node-header">{node.title ?? node.type}</div>
        <div className="sd-node-error">unknown node type "{node.type}"</div>
        {Object.keys(node.inputs).map((port) => (
          <div className="sd-port sd-port-in" key={port}>
            <Handle type="target" position={Position.Left} id={port} />
            <span>{port}</span>
          </div>
        ))}
      </div>
    );
  }

  return (
    <div
      className={`sd-node sd-cat-${info.category} status-${status}${selected ? ' selected' : ''}`}
      data-testid={`node-${id}`}
      data-node-type={node.type}
      data-status={status}
      data-color={data.color}
      style={data.color ? { background: `color-mix(in srgb, ${data.color} 22%, var(--panel))` } : undefined}
    >
      <div className="sd-node-header" title={info.description}>
        <span className="sd-node-title">{node.title ?? info.title}</span>
        <span className="sd-node-id">{id}</span>
      </div>
      <div className="sd-node-ports">
        <div className="sd-node-inputs">
          {Object.entries(info.inputs).map(([port, spec]) => (
            <div
              className={`sd-port sd-port-in${badPorts.has(port) ? ' port-bad' : ''}`}
              key={port}
              title={spec.description ?? spec.type}
              data-testid={`port-row-${id}-${port}`}
            >
              <Handle
                type="target"
                position={Position.Left}
                id={port}
                data-testid={`port-in-${id}-${port}`}
                data-port-type={spec.type}
                style={{ background: portColor(spec.type) }}
              />
              <span className="sd-port-label">
                {port}
                {spec.optional ? '?' : ''}
              </span>
            </div>
          ))}
        </div>
        <div className="sd-node-outputs">
          {Object.entries(info.outputs).map(([port, spec]) => (
            <div className="sd-port sd-port-out" key={port} title={spec.description ?? spec.type}>
              <span className="sd-port-label">{port}</span>
              <Handle
                type="source"
                position={Position.Right}
                id={port}
                data-testid={`port-out-${id}-${port}`}
                data-port-type={spec.type}
                style={{ background: portColor(spec.type) }}
              />
            </div>
          ))}
        </div>
      </div>
      <div className="sd-node-params">
        {Object.entries(info.params.properties).map(([name, schema]) => (
          <ParamField
            key={name}
            nodeId={id}
            name={name}
            schema={schema}
            value={node.params[name]}
            invalid={badParams.get(name)}
          />
        ))}
      </div>
      {run && <NodeStatus id={id} run={run} />}
      {problems.length > 0 && (
        <ul className="sd-node-problems" data-testid={`problems-${id}`}>
          {problems.map((p) => (
            <li key={`${p.code}:${p.port ?? p.param ?? ''}:${p.message}`}>{p.message}</li>
          ))}
        </ul>
      )}
      {preview && (
        <img
          className="sd-node-preview"
          data-testid={`preview-${id}`}
          src={preview.url}
          alt={`preview step ${preview.step}`}
        />
      )}
    </div>
  );
});
