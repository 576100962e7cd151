import type { NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { useEditor } from '../editor-context.ts';
import type { NoteFlowNode } from './decor-mapping.ts';

// A free-text note on the canvas; it never runs. Dragged by its top strip, typed into anywhere below.

export const NoteView = memo(function NoteView({ data }: NodeProps<NoteFlowNode>) {
  const { dispatch } = useEditor();
  const n = data.note;
  return (
    <div className="sd-note" data-testid={`note-${n.id}`}>
      <div className="sd-note-header">note</div>
      <textarea
        className="nodrag nowheel"
        data-testid={`note-text-${n.id}`}
        aria-label="Note"
        placeholder="Write a note…"
        value={n.text}
        rows={Math.max(3, n.text.split('\n').length)}
        onChange={(e) =>
          dispatch({
            type: 'edit',
            group: `note-text:${n.id}`,
            action: { type: 'updateNote', id: n.id, patch: { text: e.target.value } },
          })
        }
        onBlur={() => dispatch({ type: 'endGroup' })}
      />
    </div>
  );
});
