import type { Ui } from '@sdflow/nodes/graph/workflow.ts';
import type { Node } from '@xyflow/react';

// Groups and notes of the workflow's `ui` part as React Flow nodes: groups behind everything (dragged by their
// title bar), notes beside the nodes. Their ids carry a prefix so gestures on them never reach workflow nodes.

export type UiGroup = Ui['groups'][number];
export type UiNote = Ui['notes'][number];
export type GroupFlowNode = Node<{ group: UiGroup }, 'sdgroup'>;
export type NoteFlowNode = Node<{ note: UiNote }, 'sdnote'>;
export type DecorFlowNode = GroupFlowNode | NoteFlowNode;

export const GROUP_PREFIX = 'group:';
export const NOTE_PREFIX = 'note:';

export function decorId(id: string): { kind: 'group' | 'note'; id: string } | undefined {
  if (id.startsWith(GROUP_PREFIX)) return { kind: 'group', id: id.slice(GROUP_PREFIX.length) };
  if (id.startsWith(NOTE_PREFIX)) return { kind: 'note', id: id.slice(NOTE_PREFIX.length) };
  return undefined;
}

export const NOTE_WIDTH = 220;

/** One cached mapper: unchanged groups and notes keep their object, so their views do not re-render. */
export function createDecorMapper() {
  let groupCache = new Map<UiGroup, GroupFlowNode>();
  let noteCache = new Map<UiNote, NoteFlowNode>();
  return (ui: Ui | undefined): DecorFlowNode[] => {
    const groups = new Map<UiGroup, GroupFlowNode>();
    const notes = new Map<UiNote, NoteFlowNode>();
    for (const g of ui?.groups ?? []) {
      groups.set(
        g,
        groupCache.get(g) ?? {
          id: GROUP_PREFIX + g.id,
          type: 'sdgroup',
          position: { x: g.x, y: g.y },
          data: { group: g },
          width: g.width,
          height: g.height,
          zIndex: -1,
          dragHandle: '.sd-group-header',
          selectable: false,
        },
      );
    }
    for (const n of ui?.notes ?? []) {
      notes.set(
        n,
        noteCache.get(n) ?? {
          id: NOTE_PREFIX + n.id,
          type: 'sdnote',
          position: { x: n.x, y: n.y },
          data: { note: n },
          width: n.width ?? NOTE_WIDTH,
          dragHandle: '.sd-note-header',
          selectable: false,
        },
      );
    }
    groupCache = groups;
    noteCache = notes;
    return [...groups.values(), ...notes.values()];
  };
}
