import type { Ui } from '@sdflow/nodes/graph/workflow.ts';
import type { UiGroup, UiNote } from '../document/actions.ts';
import type { Box } from './push-below.ts';

// New notes and groups: free ids, and a group drawn around the nodes it is made from.

const PAD = 24;
const HEADER = 40;

export function freeDecorId(ui: Ui | undefined, prefix: 'note' | 'group'): string {
  const taken = new Set([...(ui?.notes ?? []), ...(ui?.groups ?? [])].map((x) => x.id));
  let n = 1;
  while (taken.has(`${prefix}_${n}`)) n++;
  return `${prefix}_${n}`;
}

export function newNote(ui: Ui | undefined, at: { x: number; y: number }): UiNote {
  return { id: freeDecorId(ui, 'note'), text: '', x: at.x, y: at.y, width: 220 };
}

/** A group around `boxes` (the nodes it is made of), or an empty one at `at`. */
export function newGroup(ui: Ui | undefined, at: { x: number; y: number }, boxes: readonly Box[]): UiGroup {
  const id = freeDecorId(ui, 'group');
  const title = `Group ${id.slice('group_'.length)}`;
  if (boxes.length === 0) return { id, title, x: at.x, y: at.y, width: 480, height: 320 };
  const x = Math.min(...boxes.map((b) => b.x)) - PAD;
  const y = Math.min(...boxes.map((b) => b.y)) - PAD - HEADER;
  const right = Math.max(...boxes.map((b) => b.x + b.width)) + PAD;
  const bottom = Math.max(...boxes.map((b) => b.y + b.height)) + PAD;
  return { id, title, x, y, width: right - x, height: bottom - y };
}
