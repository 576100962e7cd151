import type { Ui } from '@sdflow/nodes/graph/workflow.ts';
import type { DocAction } from './actions.ts';

// Layout-only edits: node colours, notes and groups. They live in the workflow's `ui` part, which execution
// ignores, so they travel with saved files and PNGs without changing what runs. Returns `ui` itself when
// nothing changes.

type DecorAction = Extract<
  DocAction,
  { type: 'setNodeUi' | 'addNote' | 'updateNote' | 'addGroup' | 'updateGroup' | 'moveGroup' | 'removeDecor' }
>;

export function decorReducer(ui: Ui, action: DecorAction): Ui {
  switch (action.type) {
    case 'setNodeUi': {
      const cur = ui.nodes[action.id];
      if (!cur) return ui;
      const next = { ...cur };
      for (const [k, v] of Object.entries(action.patch) as [keyof typeof action.patch, unknown][]) {
        if (v === undefined || v === false) delete next[k];
        else Object.assign(next, { [k]: v });
      }
      return { ...ui, nodes: { ...ui.nodes, [action.id]: next } };
    }
    case 'addNote':
      if (ui.notes.some((n) => n.id === action.note.id)) return ui;
      return { ...ui, notes: [...ui.notes, action.note] };
    case 'updateNote': {
      const i = ui.notes.findIndex((n) => n.id === action.id);
      if (i === -1) return ui;
      const notes = [...ui.notes];
      notes[i] = { ...notes[i]!, ...action.patch };
      return { ...ui, notes };
    }
    case 'addGroup':
      if (ui.groups.some((g) => g.id === action.group.id)) return ui;
      return { ...ui, groups: [...ui.groups, action.group] };
    case 'updateGroup': {
      const i = ui.groups.findIndex((g) => g.id === action.id);
      if (i === -1) return ui;
      const groups = [...ui.groups];
      groups[i] = { ...groups[i]!, ...action.patch };
      return { ...ui, groups };
    }
    case 'moveGroup': {
      const { dx, dy } = action;
      if ((dx === 0 && dy === 0) || !ui.groups.some((g) => g.id === action.id)) return ui;
      const groups = ui.groups.map((g) => (g.id === action.id ? { ...g, x: g.x + dx, y: g.y + dy } : g));
      const nodes = { ...ui.nodes };
      for (const id of action.members) {
        const n = nodes[id];
        if (n) nodes[id] = { ...n, x: n.x + dx, y: n.y + dy };
      }
      const moved = new Set(action.notes);
      const notes = ui.notes.map((n) => (moved.has(n.id) ? { ...n, x: n.x + dx, y: n.y + dy } : n));
      return { ...ui, groups, nodes, notes };
    }
    case 'removeDecor': {
      const notes = new Set(action.notes ?? []);
      const groups = new Set(action.groups ?? []);
      if (!ui.notes.some((n) => notes.has(n.id)) && !ui.groups.some((g) => groups.has(g.id))) return ui;
      return {
        ...ui,
        notes: ui.notes.filter((n) => !notes.has(n.id)),
        groups: ui.groups.filter((g) => !groups.has(g.id)),
      };
    }
  }
}

/** Ids of nodes (by their top-left corner) and notes inside a group's box: what moves with it. */
export function groupMembers(ui: Ui, groupId: string): { nodes: string[]; notes: string[] } {
  const g = ui.groups.find((x) => x.id === groupId);
  if (!g) return { nodes: [], notes: [] };
  const inside = (p: { x: number; y: number }) =>
    p.x >= g.x && p.y >= g.y && p.x < g.x + g.width && p.y < g.y + g.height;
  return {
    nodes: Object.entries(ui.nodes)
      .filter(([, p]) => inside(p))
      .map(([id]) => id),
    notes: ui.notes.filter(inside).map((n) => n.id),
  };
}
