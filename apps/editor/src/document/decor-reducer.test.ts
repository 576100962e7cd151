import type { Ui } from '@sdflow/nodes/graph/workflow.ts';
import { describe, expect, it } from 'vitest';
import { decorReducer, groupMembers } from './decor-reducer.ts';

const ui: Ui = {
  nodes: { a: { x: 10, y: 10 }, b: { x: 500, y: 10 } },
  groups: [{ id: 'g', title: 'G', x: 0, y: 0, width: 300, height: 200 }],
  notes: [{ id: 'n', text: 'hi', x: 20, y: 100 }],
};

describe('decorReducer', () => {
  it('moves a group with the nodes and notes inside it, and nothing else', () => {
    const members = groupMembers(ui, 'g');
    expect(members).toEqual({ nodes: ['a'], notes: ['n'] });
    const next = decorReducer(ui, {
      type: 'moveGroup',
      id: 'g',
      dx: 5,
      dy: 7,
      members: members.nodes,
      notes: members.notes,
    });
    expect(next.groups[0]).toMatchObject({ x: 5, y: 7 });
    expect(next.nodes).toEqual({ a: { x: 15, y: 17 }, b: { x: 500, y: 10 } });
    expect(next.notes[0]).toMatchObject({ x: 25, y: 107 });
  });

  it('colours a node and clears it; edits, adds and removes notes and groups; no change keeps the object', () => {
    const red = decorReducer(ui, { type: 'setNodeUi', id: 'a', patch: { color: '#f00' } });
    expect(red.nodes.a).toEqual({ x: 10, y: 10, color: '#f00' });
    expect(decorReducer(red, { type: 'setNodeUi', id: 'a', patch: { color: undefined } }).nodes.a).toEqual({
      x: 10,
      y: 10,
    });
    const renamed = decorReducer(ui, { type: 'updateGroup', id: 'g', patch: { title: 'Prompt' } });
    expect(renamed.groups[0]?.title).toBe('Prompt');
    const added = decorReducer(ui, { type: 'addNote', note: { id: 'm', text: '', x: 0, y: 0 } });
    expect(added.notes.map((n) => n.id)).toEqual(['n', 'm']);
    const removed = decorReducer(added, { type: 'removeDecor', notes: ['n'], groups: ['g'] });
    expect([removed.notes.map((n) => n.id), removed.groups]).toEqual([['m'], []]);
    expect(decorReducer(ui, { type: 'removeDecor', notes: ['nope'] })).toBe(ui);
    expect(decorReducer(ui, { type: 'moveGroup', id: 'g', dx: 0, dy: 0, members: [], notes: [] })).toBe(ui);
  });
});
