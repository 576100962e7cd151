import { type HistoryAction, TRANSIENT } from './actions.ts';
import { type DocEnv, docReducer } from './doc-reducer.ts';
import { type DocState, initialDoc } from './doc-state.ts';

// Undo/redo as a history of document states. Edits sharing a group key (one drag, typing in one field)
// fold into one step; any other edit, or endGroup, closes the group.

export interface History {
  readonly past: readonly DocState[];
  readonly present: DocState;
  readonly future: readonly DocState[];
  readonly group?: string;
}

export const HISTORY_LIMIT = 200;

export function initialHistory(present: DocState = initialDoc()): History {
  return { past: [], present, future: [] };
}

export function historyReducer(h: History, action: HistoryAction, env: DocEnv): History {
  switch (action.type) {
    case 'undo': {
      const prev = h.past[h.past.length - 1];
      if (!prev) return h;
      return { past: h.past.slice(0, -1), present: prev, future: [h.present, ...h.future] };
    }
    case 'redo': {
      const next = h.future[0];
      if (!next) return h;
      return { past: [...h.past, h.present], present: next, future: h.future.slice(1) };
    }
    case 'endGroup':
      return h.group === undefined ? h : { past: h.past, present: h.present, future: h.future };
    case 'edit': {
      const next = docReducer(h.present, action.action, env);
      if (next === h.present) return h;
      if (TRANSIENT.has(action.action.type) || next.workflow === h.present.workflow) {
        // Selection, viewport and refusals change what is shown, not what can be undone.
        return { ...h, present: next };
      }
      if (action.group !== undefined && action.group === h.group) return { ...h, present: next, future: [] };
      const past = [...h.past, h.present].slice(-HISTORY_LIMIT);
      return action.group === undefined
        ? { past, present: next, future: [] }
        : { past, present: next, future: [], group: action.group };
    }
  }
}

export const canUndo = (h: History): boolean => h.past.length > 0;
export const canRedo = (h: History): boolean => h.future.length > 0;
