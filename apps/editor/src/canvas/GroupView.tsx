import type { NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { useEditor } from '../editor-context.ts';
import type { GroupFlowNode } from './decor-mapping.ts';

// A named, coloured box behind nodes; dragging its title bar moves the nodes inside with it.

export const GroupView = memo(function GroupView({ data }: NodeProps<GroupFlowNode>) {
  const { dispatch } = useEditor();
  const g = data.group;
  const color = g.color ?? '#4f8cff';
  return (
    <div className="sd-group" data-testid={`group-${g.id}`} style={{ borderColor: color, background: `${color}1a` }}>
      <div className="sd-group-header" style={{ background: `${color}55` }}>
        <input
          className="nodrag sd-group-title"
          data-testid={`group-title-${g.id}`}
          aria-label="Group name"
          value={g.title}
          onChange={(e) =>
            dispatch({
              type: 'edit',
              group: `group-title:${g.id}`,
              action: { type: 'updateGroup', id: g.id, patch: { title: e.target.value } },
            })
          }
          onBlur={() => dispatch({ type: 'endGroup' })}
        />
      </div>
    </div>
  );
});
