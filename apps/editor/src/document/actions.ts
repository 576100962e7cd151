import type { Ui, Workflow, WorkflowNode } from '@sdflow/nodes/graph/workflow.ts';
import type { Clip } from './clipboard.ts';
import type { ConnectionRequest } from './connection-check.ts';

// Every edit is data. Selection changes are transient: they never make an undo step.

export interface XY {
  readonly x: number;
  readonly y: number;
}

export type DocAction =
  | { type: 'addNode'; id: string; nodeType: string; position: XY; params?: Record<string, unknown> }
  | { type: 'moveNodes'; positions: Readonly<Record<string, XY>> }
  /** Nodes moved out of the way of one that grew: a consequence of a run or an edit, not a step of its own. */
  | { type: 'makeRoom'; positions: Readonly<Record<string, XY>> }
  | { type: 'removeNodes'; ids: readonly string[] }
  | { type: 'removeSelection' }
  | { type: 'connect'; connection: ConnectionRequest }
  | { type: 'disconnect'; target: string; input: string }
  | { type: 'setParam'; id: string; param: string; value: unknown }
  | { type: 'setTitle'; id: string; title: string }
  | { type: 'rename'; name: string }
  /** Colour or collapse of one node (layout only). */
  | { type: 'setNodeUi'; id: string; patch: { color?: string | undefined; collapsed?: boolean | undefined } }
  | { type: 'addNote'; note: UiNote }
  | { type: 'updateNote'; id: string; patch: Partial<Omit<UiNote, 'id'>> }
  | { type: 'addGroup'; group: UiGroup }
  | { type: 'updateGroup'; id: string; patch: Partial<Omit<UiGroup, 'id'>> }
  /** Moves a group by (dx, dy) and its member nodes and notes with it. */
  | { type: 'moveGroup'; id: string; dx: number; dy: number; members: readonly string[]; notes: readonly string[] }
  /** Deletes notes and groups (a group's nodes stay). */
  | { type: 'removeDecor'; notes?: readonly string[]; groups?: readonly string[] }
  | { type: 'paste'; clip: Clip; offset: XY }
  | { type: 'duplicate' }
  | { type: 'load'; workflow: Workflow }
  | { type: 'clear' }
  | { type: 'batch'; actions: readonly DocAction[] }
  // transient
  | { type: 'select'; nodes?: readonly string[]; edges?: readonly string[] }
  | { type: 'selectAll' }
  | { type: 'dismissNotice' };

export const TRANSIENT: ReadonlySet<DocAction['type']> = new Set(['select', 'selectAll', 'dismissNotice', 'makeRoom']);

/** History-level actions; `group` makes consecutive edits with the same key one undo step. */
export type HistoryAction =
  | { type: 'undo' }
  | { type: 'redo' }
  /** Ends the current group (drag end, text field blur). */
  | { type: 'endGroup' }
  | { type: 'edit'; action: DocAction; group?: string };

export type UiNote = Ui['notes'][number];
export type UiGroup = Ui['groups'][number];

export type { WorkflowNode };
