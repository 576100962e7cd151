import type { Ui, Workflow, WorkflowNode } from '@sdflow/nodes/graph/workflow.ts';
import { type Catalog, defaultParams } from '../catalog/catalog.ts';
import type { DocAction, XY } from './actions.ts';
import { copyNodes, renameClip } from './clipboard.ts';
import { checkConnection } from './connection-check.ts';
import { decorReducer } from './decor-reducer.ts';
import { type DocState, EMPTY_SELECTION, edgeId, emptyWorkflow, parseEdgeId } from './doc-state.ts';

// The document as a pure function of actions. Returns the same object when nothing changes.

export interface DocEnv {
  readonly catalog: Catalog;
}

const DUPLICATE_OFFSET: XY = { x: 40, y: 40 };

export function docReducer(state: DocState, action: DocAction, env: DocEnv): DocState {
  switch (action.type) {
    case 'addNode': {
      if (state.workflow.nodes[action.id]) return refuse(state, `node id ${action.id} is already taken`);
      const info = env.catalog.byType.get(action.nodeType);
      if (!info) return refuse(state, `unknown node type "${action.nodeType}"`);
      const node: WorkflowNode = {
        type: info.type,
        typeVersion: info.version,
        params: { ...defaultParams(info), ...(action.params ?? {}) },
        inputs: {},
      };
      const wf = withNodes(state.workflow, { ...state.workflow.nodes, [action.id]: node });
      return accept(withUi(wf, { [action.id]: { x: action.position.x, y: action.position.y } }), {
        nodes: [action.id],
        edges: [],
      });
    }
    case 'makeRoom':
    case 'moveNodes': {
      const ui = state.workflow.ui?.nodes ?? {};
      const moved: Record<string, { x: number; y: number }> = {};
      for (const [id, p] of Object.entries(action.positions)) {
        if (!state.workflow.nodes[id]) continue;
        const cur = ui[id];
        if (cur && cur.x === p.x && cur.y === p.y) continue;
        moved[id] = { ...(cur ?? {}), x: p.x, y: p.y };
      }
      if (Object.keys(moved).length === 0) return state;
      return accept(withUi(state.workflow, moved), state.selection);
    }
    case 'removeNodes':
      return removeNodes(state, action.ids, []);
    case 'removeSelection':
      return removeNodes(state, state.selection.nodes, state.selection.edges);
    case 'connect': {
      const c = action.connection;
      const verdict = checkConnection(state.workflow, env.catalog, c);
      if (!verdict.ok) return refuse(state, verdict.reason);
      const target = state.workflow.nodes[c.target]!;
      const cur = target.inputs[c.input];
      if (cur && cur.node === c.source && cur.output === c.output) return state;
      // One edge per input: a new edge into an occupied input replaces the old one.
      const node = { ...target, inputs: { ...target.inputs, [c.input]: { node: c.source, output: c.output } } };
      return accept(withNodes(state.workflow, { ...state.workflow.nodes, [c.target]: node }), state.selection);
    }
    case 'disconnect': {
      const target = state.workflow.nodes[action.target];
      if (!target?.inputs[action.input]) return state;
      const { [action.input]: _gone, ...inputs } = target.inputs;
      const nodes = { ...state.workflow.nodes, [action.target]: { ...target, inputs } };
      const edges = state.selection.edges.filter((e) => e !== edgeId(action.target, action.input));
      return accept(withNodes(state.workflow, nodes), { ...state.selection, edges });
    }
    case 'setParam': {
      const node = state.workflow.nodes[action.id];
      if (!node) return refuse(state, `node ${action.id} does not exist`);
      if (Object.is(node.params[action.param], action.value)) return state;
      const next = { ...node, params: { ...node.params, [action.param]: action.value } };
      return accept(withNodes(state.workflow, { ...state.workflow.nodes, [action.id]: next }), state.selection);
    }
    case 'setTitle': {
      const node = state.workflow.nodes[action.id];
      if (!node || node.title === action.title) return state;
      const { title: _old, ...rest } = node;
      const next = action.title ? { ...rest, title: action.title } : rest;
      return accept(withNodes(state.workflow, { ...state.workflow.nodes, [action.id]: next }), state.selection);
    }
    case 'rename': {
      if ((state.workflow.meta.name ?? '') === action.name) return state;
      const { name: _old, ...meta } = state.workflow.meta;
      return accept({ ...state.workflow, meta: action.name ? { ...meta, name: action.name } : meta }, state.selection);
    }
    case 'setNodeUi':
    case 'addNote':
    case 'updateNote':
    case 'addGroup':
    case 'updateGroup':
    case 'moveGroup':
    case 'removeDecor': {
      const ui = decorReducer(uiOf(state.workflow), action);
      return ui === state.workflow.ui ? state : accept({ ...state.workflow, ui }, state.selection);
    }
    case 'paste': {
      if (Object.keys(action.clip.nodes).length === 0) return state;
      const clip = renameClip(state.workflow, action.clip, action.offset);
      const wf = withUi(withNodes(state.workflow, { ...state.workflow.nodes, ...clip.nodes }), clip.ui);
      return accept(wf, { nodes: Object.keys(clip.nodes), edges: [] });
    }
    case 'duplicate':
      if (state.selection.nodes.length === 0) return state;
      return docReducer(
        state,
        { type: 'paste', clip: copyNodes(state.workflow, state.selection.nodes), offset: DUPLICATE_OFFSET },
        env,
      );
    case 'load':
      return { workflow: action.workflow, selection: EMPTY_SELECTION };
    case 'clear':
      return { workflow: emptyWorkflow(), selection: EMPTY_SELECTION };
    case 'batch': {
      // All or nothing: one refused step refuses the batch.
      let s: DocState = { workflow: state.workflow, selection: state.selection };
      for (const a of action.actions) {
        s = docReducer(s, a, env);
        if (s.notice !== undefined) return refuse(state, s.notice);
      }
      return s.workflow === state.workflow && s.selection === state.selection ? state : s;
    }
    case 'select': {
      const nodes = action.nodes ?? state.selection.nodes;
      const edges = action.edges ?? state.selection.edges;
      if (sameList(nodes, state.selection.nodes) && sameList(edges, state.selection.edges)) return state;
      return { ...state, selection: { nodes, edges } };
    }
    case 'selectAll':
      return { ...state, selection: { nodes: Object.keys(state.workflow.nodes), edges: [] } };
    case 'dismissNotice': {
      if (state.notice === undefined) return state;
      const { notice: _n, ...rest } = state;
      return rest;
    }
  }
}

function removeNodes(state: DocState, ids: readonly string[], edges: readonly string[]): DocState {
  const gone = new Set(ids.filter((id) => state.workflow.nodes[id]));
  const cut = new Set(edges);
  if (gone.size === 0 && cut.size === 0) return state;
  const nodes: Record<string, WorkflowNode> = {};
  for (const [id, node] of Object.entries(state.workflow.nodes)) {
    if (gone.has(id)) continue;
    const keep = Object.entries(node.inputs).filter(([port, ref]) => !gone.has(ref.node) && !cut.has(edgeId(id, port)));
    nodes[id] = keep.length === Object.keys(node.inputs).length ? node : { ...node, inputs: Object.fromEntries(keep) };
  }
  const uiNodes = Object.fromEntries(Object.entries(state.workflow.ui?.nodes ?? {}).filter(([id]) => !gone.has(id)));
  const ui = { ...(state.workflow.ui ?? { groups: [], notes: [] }), nodes: uiNodes };
  const wf = { ...state.workflow, nodes, ui };
  const selEdges = state.selection.edges.filter((e) => !cut.has(e) && !gone.has(parseEdgeId(e)?.target ?? ''));
  return accept(wf, { nodes: state.selection.nodes.filter((id) => !gone.has(id)), edges: selEdges });
}

function withNodes(wf: Workflow, nodes: Record<string, WorkflowNode>): Workflow {
  return { ...wf, nodes };
}

function uiOf(wf: Workflow): Ui {
  return wf.ui ?? { nodes: {}, groups: [], notes: [] };
}

function withUi(wf: Workflow, patch: Record<string, { x: number; y: number }>): Workflow {
  const ui = wf.ui ?? { nodes: {}, groups: [], notes: [] };
  return { ...wf, ui: { ...ui, nodes: { ...ui.nodes, ...patch } } };
}

function accept(workflow: Workflow, selection: DocState['selection']): DocState {
  return { workflow, selection };
}

function refuse(state: DocState, reason: string): DocState {
  return state.notice === reason ? state : { ...state, notice: reason };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
