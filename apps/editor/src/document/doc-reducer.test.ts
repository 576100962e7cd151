import { describe, expect, it } from 'vitest';
import type { DocAction } from './actions.ts';
import { copyNodes } from './clipboard.ts';
import { docReducer } from './doc-reducer.ts';
import { type DocState, edgeId, initialDoc } from './doc-state.ts';
import { TEST_CATALOG } from './test-catalog.ts';

const env = { catalog: TEST_CATALOG };
const run = (actions: DocAction[], from: DocState = initialDoc()) =>
  actions.reduce((s, a) => docReducer(s, a, env), from);
const add = (id: string, nodeType: string, x = 0, y = 0): DocAction => ({
  type: 'addNode',
  id,
  nodeType,
  position: { x, y },
});
const connect = (source: string, output: string, target: string, input: string): DocAction => ({
  type: 'connect',
  connection: { source, output, target, input },
});

describe('docReducer', () => {
  it('adds a node with the schema defaults, its version and position, and selects it', () => {
    const s = run([add('m', 'loadModel', 10, 20)]);
    expect(s.workflow.nodes.m).toEqual({
      type: 'loadModel',
      typeVersion: 1,
      params: { model: 'default', precision: 'auto' },
      inputs: {},
    });
    expect(s.workflow.ui?.nodes.m).toEqual({ x: 10, y: 20 });
    expect(s.selection.nodes).toEqual(['m']);
  });

  it('refuses unknown node types and taken ids with a reason, leaving the workflow alone', () => {
    const s0 = run([add('m', 'loadModel')]);
    const s1 = docReducer(s0, add('m', 'encodePrompt'), env);
    expect(s1.workflow).toBe(s0.workflow);
    expect(s1.notice).toMatch(/already taken/);
    expect(docReducer(s0, add('x', 'nope'), env).notice).toMatch(/unknown node type "nope"/);
  });

  it('connects matching types and refuses a mismatch with a reason naming both types', () => {
    const s0 = run([add('m', 'loadModel'), add('p', 'encodePrompt'), connect('m', 'clip', 'p', 'clip')]);
    expect(s0.workflow.nodes.p?.inputs).toEqual({ clip: { node: 'm', output: 'clip' } });
    const bad = docReducer(s0, connect('m', 'unet', 'p', 'clip'), env);
    expect(bad.workflow).toBe(s0.workflow);
    expect(bad.notice).toContain('cannot connect UNET to CLIP');
  });

  it('keeps one edge per input: a new edge replaces the old one', () => {
    const s = run([
      add('m1', 'loadModel'),
      add('m2', 'loadModel'),
      add('p', 'encodePrompt'),
      connect('m1', 'clip', 'p', 'clip'),
      connect('m2', 'clip', 'p', 'clip'),
    ]);
    expect(s.workflow.nodes.p?.inputs).toEqual({ clip: { node: 'm2', output: 'clip' } });
  });

  it('refuses cycles and missing ports', () => {
    const s0 = run([add('a', 'unetDenoise'), add('b', 'unetDenoise'), connect('a', 'latent', 'b', 'latent')]);
    expect(docReducer(s0, connect('b', 'latent', 'a', 'latent'), env).notice).toMatch(/cycle/);
    expect(docReducer(s0, connect('a', 'nope', 'b', 'latent'), env).notice).toMatch(/no output "nope"/);
  });

  it('removing a node removes the edges into its consumers and its layout', () => {
    const s0 = run([add('m', 'loadModel'), add('p', 'encodePrompt'), connect('m', 'clip', 'p', 'clip')]);
    const s1 = docReducer(s0, { type: 'removeNodes', ids: ['m'] }, env);
    expect(Object.keys(s1.workflow.nodes)).toEqual(['p']);
    expect(s1.workflow.nodes.p?.inputs).toEqual({});
    expect(s1.workflow.ui?.nodes.m).toBeUndefined();
  });

  it('removes the selected edges and nodes together', () => {
    let s = run([add('m', 'loadModel'), add('p', 'encodePrompt'), add('l', 'emptyLatent')]);
    s = run([connect('m', 'clip', 'p', 'clip'), connect('m', 'vae', 'l', 'vae')], s);
    s = docReducer(s, { type: 'select', nodes: [], edges: [edgeId('p', 'clip')] }, env);
    s = docReducer(s, { type: 'removeSelection' }, env);
    expect(s.workflow.nodes.p?.inputs).toEqual({});
    expect(s.workflow.nodes.l?.inputs).toEqual({ vae: { node: 'm', output: 'vae' } });
  });

  it('disconnects an input', () => {
    const s0 = run([add('m', 'loadModel'), add('p', 'encodePrompt'), connect('m', 'clip', 'p', 'clip')]);
    expect(docReducer(s0, { type: 'disconnect', target: 'p', input: 'clip' }, env).workflow.nodes.p?.inputs).toEqual(
      {},
    );
  });

  it('sets params and titles, returning the same state for no-ops', () => {
    const s0 = run([add('p', 'encodePrompt')]);
    const s1 = docReducer(s0, { type: 'setParam', id: 'p', param: 'prompt', value: 'a cat' }, env);
    expect(s1.workflow.nodes.p?.params.prompt).toBe('a cat');
    expect(docReducer(s1, { type: 'setParam', id: 'p', param: 'prompt', value: 'a cat' }, env)).toBe(s1);
    expect(docReducer(s1, { type: 'setTitle', id: 'p', title: 'Positive' }, env).workflow.nodes.p?.title).toBe(
      'Positive',
    );
  });

  it('pastes with fresh ids, keeps internal edges, drops edges from outside, offsets and selects', () => {
    const s0 = run([
      add('loadModel_1', 'loadModel', 0, 0),
      add('encodePrompt_1', 'encodePrompt', 100, 0),
      add('emptyLatent_1', 'emptyLatent', 100, 100),
      connect('loadModel_1', 'clip', 'encodePrompt_1', 'clip'),
      connect('loadModel_1', 'vae', 'emptyLatent_1', 'vae'),
    ]);
    const clip = copyNodes(s0.workflow, ['encodePrompt_1', 'loadModel_1']);
    const s1 = docReducer(s0, { type: 'paste', clip, offset: { x: 5, y: 7 } }, env);
    expect(Object.keys(s1.workflow.nodes)).toHaveLength(5);
    expect([...s1.selection.nodes].sort()).toEqual(['encodePrompt_2', 'loadModel_2']);
    expect(s1.workflow.nodes.encodePrompt_2?.inputs).toEqual({ clip: { node: 'loadModel_2', output: 'clip' } });
    expect(s1.workflow.ui?.nodes.encodePrompt_2).toEqual({ x: 105, y: 7 });
    // Edges from nodes outside the copy are not carried over.
    const clip2 = copyNodes(s0.workflow, ['emptyLatent_1']);
    expect(clip2.nodes.emptyLatent_1?.inputs).toEqual({});
  });

  it('duplicates the selection', () => {
    const s0 = run([add('loadModel_1', 'loadModel'), { type: 'selectAll' }, { type: 'duplicate' }]);
    expect(Object.keys(s0.workflow.nodes).sort()).toEqual(['loadModel_1', 'loadModel_2']);
    expect(s0.selection.nodes).toEqual(['loadModel_2']);
  });

  it('applies a batch all-or-nothing', () => {
    const s0 = run([add('m', 'loadModel')]);
    const ok = docReducer(
      s0,
      { type: 'batch', actions: [add('p', 'encodePrompt'), connect('m', 'clip', 'p', 'clip')] },
      env,
    );
    expect(ok.workflow.nodes.p?.inputs.clip).toEqual({ node: 'm', output: 'clip' });
    const bad = docReducer(
      s0,
      { type: 'batch', actions: [add('p', 'encodePrompt'), connect('m', 'unet', 'p', 'clip')] },
      env,
    );
    expect(bad.workflow).toBe(s0.workflow);
    expect(bad.notice).toContain('cannot connect UNET to CLIP');
  });

  it('moves nodes, ignoring unknown ids and unchanged positions', () => {
    const s0 = run([add('m', 'loadModel', 1, 1)]);
    expect(docReducer(s0, { type: 'moveNodes', positions: { m: { x: 1, y: 1 }, q: { x: 3, y: 3 } } }, env)).toBe(s0);
    const s1 = docReducer(s0, { type: 'moveNodes', positions: { m: { x: 9, y: 8 } } }, env);
    expect(s1.workflow.ui?.nodes.m).toEqual({ x: 9, y: 8 });
  });

  it('an accepted edit clears the refusal notice', () => {
    const s0 = run([add('m', 'loadModel'), add('p', 'encodePrompt'), connect('m', 'unet', 'p', 'clip')]);
    expect(s0.notice).toBeDefined();
    expect(docReducer(s0, connect('m', 'clip', 'p', 'clip'), env).notice).toBeUndefined();
  });
});
