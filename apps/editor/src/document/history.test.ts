import { describe, expect, it } from 'vitest';
import type { DocAction, HistoryAction } from './actions.ts';
import { copyNodes } from './clipboard.ts';
import { canRedo, canUndo, type History, historyReducer, initialHistory } from './history.ts';
import { TEST_CATALOG } from './test-catalog.ts';

const env = { catalog: TEST_CATALOG };
const apply = (h: History, ...actions: HistoryAction[]) => actions.reduce((s, a) => historyReducer(s, a, env), h);
const edit = (action: DocAction, group?: string): HistoryAction =>
  group ? { type: 'edit', action, group } : { type: 'edit', action };
const add = (id: string, nodeType: string): HistoryAction =>
  edit({ type: 'addNode', id, nodeType, position: { x: 0, y: 0 } });

describe('historyReducer', () => {
  it('undoes and redoes single edits', () => {
    const h = apply(initialHistory(), add('a', 'loadModel'), add('b', 'encodePrompt'));
    const u = apply(h, { type: 'undo' });
    expect(Object.keys(u.present.workflow.nodes)).toEqual(['a']);
    const r = apply(u, { type: 'redo' });
    expect(r.present.workflow).toBe(h.present.workflow);
    expect(canRedo(r)).toBe(false);
    expect(apply(initialHistory(), { type: 'undo' }).past).toHaveLength(0);
  });

  it('a drag (one group) is one undo step, and a new edit clears redo', () => {
    let h = apply(initialHistory(), add('a', 'loadModel'));
    for (let i = 1; i <= 20; i++) h = apply(h, edit({ type: 'moveNodes', positions: { a: { x: i, y: i } } }, 'drag-1'));
    h = apply(h, { type: 'endGroup' });
    expect(h.present.workflow.ui?.nodes.a).toEqual({ x: 20, y: 20 });
    const u = apply(h, { type: 'undo' });
    expect(u.present.workflow.ui?.nodes.a).toEqual({ x: 0, y: 0 });
    expect(canRedo(u)).toBe(true);
    expect(canRedo(apply(u, add('c', 'vaeDecode')))).toBe(false);
  });

  it('typing in one field coalesces until the group ends, and undo then reaches earlier steps', () => {
    let h = apply(initialHistory(), add('p', 'encodePrompt'));
    for (const value of ['a', 'a c', 'a ca', 'a cat']) {
      h = apply(h, edit({ type: 'setParam', id: 'p', param: 'prompt', value }, 'param:p:prompt'));
    }
    h = apply(h, { type: 'endGroup' });
    h = apply(h, edit({ type: 'setParam', id: 'p', param: 'prompt', value: 'a cat!' }, 'param:p:prompt'));
    expect(h.past).toHaveLength(3);
    h = apply(h, { type: 'undo' });
    expect(h.present.workflow.nodes.p?.params.prompt).toBe('a cat');
    h = apply(h, { type: 'undo' });
    expect(h.present.workflow.nodes.p?.params.prompt).toBe('');
    h = apply(h, { type: 'undo' });
    expect(h.present.workflow.nodes).toEqual({});
    expect(canUndo(h)).toBe(false);
  });

  it('a different edit closes the group even with the same key later', () => {
    let h = apply(initialHistory(), add('p', 'encodePrompt'));
    h = apply(h, edit({ type: 'setParam', id: 'p', param: 'prompt', value: 'x' }, 'k'));
    h = apply(h, add('q', 'encodePrompt'));
    h = apply(h, edit({ type: 'setParam', id: 'p', param: 'prompt', value: 'xy' }, 'k'));
    expect(h.past).toHaveLength(4);
  });

  it('a multi-node paste is one step each way', () => {
    let h = apply(initialHistory(), add('loadModel_1', 'loadModel'), add('encodePrompt_1', 'encodePrompt'));
    const clip = copyNodes(h.present.workflow, ['loadModel_1', 'encodePrompt_1']);
    h = apply(h, edit({ type: 'paste', clip, offset: { x: 10, y: 10 } }));
    expect(Object.keys(h.present.workflow.nodes)).toHaveLength(4);
    h = apply(h, { type: 'undo' });
    expect(Object.keys(h.present.workflow.nodes)).toHaveLength(2);
    h = apply(h, { type: 'redo' });
    expect(Object.keys(h.present.workflow.nodes)).toHaveLength(4);
  });

  it('selection and refusals make no undo step', () => {
    let h = apply(initialHistory(), add('m', 'loadModel'), add('p', 'encodePrompt'));
    const before = h.past.length;
    h = apply(
      h,
      edit({ type: 'selectAll' }),
      edit({ type: 'connect', connection: { source: 'm', output: 'unet', target: 'p', input: 'clip' } }),
    );
    expect(h.past).toHaveLength(before);
    expect(h.present.notice).toContain('UNET');
    expect(h.present.selection.nodes).toEqual(['m', 'p']);
  });
});
