import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { Problem, RunEvent } from '@sdflow/nodes/protocol/events.ts';

// What the editor shows about runs, folded from runtime events by a pure reducer.

export type NodeRunStatus = 'queued' | 'running' | 'cached' | 'done' | 'failed' | 'interrupted';

export interface NodeRun {
  readonly status: NodeRunStatus;
  readonly value?: number;
  readonly max?: number;
  readonly wallMs?: number;
  readonly peakBytes?: number;
  readonly error?: string;
  readonly port?: string;
  readonly param?: string;
}

export type RunStatus = 'queued' | 'running' | 'finished' | 'failed' | 'interrupted';

export interface RunInfo {
  readonly status: RunStatus;
  readonly error?: string;
  readonly wallMs?: number;
}

export type ConnectionStatus = 'connecting' | 'open' | 'closed';

export interface RunState {
  readonly connection: ConnectionStatus;
  readonly runs: Readonly<Record<string, RunInfo>>;
  /** The run whose node states are painted on the canvas (the latest started). */
  readonly currentRunId?: string;
  readonly nodes: Readonly<Record<string, NodeRun>>;
  /** Validation problems from the runtime, painted on nodes before anything runs. */
  readonly problems: readonly Problem[];
  /** Output file names, newest first, each once. */
  readonly gallery: readonly string[];
  /** The workflow each run executed, where known: a node edited since its run no longer shows that run's result. */
  readonly workflows: Readonly<Record<string, Workflow>>;
  /** Bumped whenever the runtime's history changes (a run ended, entries deleted): history views refetch. */
  readonly historyVersion: number;
  readonly message?: string;
}

export const initialRunState: RunState = {
  connection: 'connecting',
  runs: {},
  nodes: {},
  problems: [],
  gallery: [],
  workflows: {},
  historyVersion: 0,
};

export type RunAction =
  | { type: 'event'; event: RunEvent }
  | { type: 'connection'; status: ConnectionStatus }
  | { type: 'problems'; problems: readonly Problem[] }
  /** Files of a run, newest last; `replace`: the runtime's whole output list, newest first. */
  | { type: 'gallery'; files: readonly string[]; replace?: boolean }
  | { type: 'runWorkflow'; runId: string; workflow: Workflow }
  | { type: 'historyDeleted'; runIds: readonly string[] }
  | { type: 'message'; message?: string }
  /** A different workflow was opened: node states and problems of the old one no longer apply. */
  | { type: 'forget' }
  | {
      type: 'resync';
      runs: Readonly<Record<string, RunInfo>>;
      currentRunId?: string;
      nodes?: Readonly<Record<string, NodeRun>>;
    };

export const GALLERY_LIMIT = 200;

export function runReducer(state: RunState, action: RunAction): RunState {
  switch (action.type) {
    case 'connection':
      return state.connection === action.status ? state : { ...state, connection: action.status };
    case 'problems':
      return { ...state, problems: action.problems };
    case 'forget': {
      const { currentRunId: _c, ...rest } = state;
      return { ...rest, nodes: {}, problems: [] };
    }
    case 'gallery':
      return {
        ...state,
        gallery: action.replace
          ? unique(action.files).slice(0, GALLERY_LIMIT)
          : mergeFiles(state.gallery, action.files),
      };
    case 'runWorkflow':
      return { ...state, workflows: { ...state.workflows, [action.runId]: action.workflow } };
    case 'historyDeleted': {
      const gone = new Set(action.runIds);
      const runs = Object.fromEntries(Object.entries(state.runs).filter(([id]) => !gone.has(id)));
      const next = { ...state, runs, historyVersion: state.historyVersion + 1 };
      if (state.currentRunId === undefined || !gone.has(state.currentRunId)) return next;
      // The run on screen was deleted: the server no longer knows its results, so neither do the nodes.
      const { currentRunId: _c, ...rest } = next;
      return { ...rest, nodes: {} };
    }
    case 'message': {
      if (action.message === undefined) {
        const { message: _m, ...rest } = state;
        return rest;
      }
      return { ...state, message: action.message };
    }
    case 'resync': {
      // The snapshot lists every queued and running run: one we still think pending was lost (a restart).
      const lost = Object.keys(state.runs).filter((id) => isPending(state.runs[id]!) && !(id in action.runs));
      const runs = { ...state.runs, ...Object.fromEntries(lost.map((id) => [id, LOST])), ...action.runs };
      const next: RunState = { ...state, runs, historyVersion: state.historyVersion + 1 };
      if (action.currentRunId !== undefined) {
        return { ...next, currentRunId: action.currentRunId, nodes: action.nodes ?? {} };
      }
      return state.currentRunId !== undefined && lost.includes(state.currentRunId) ? stopNodes(next) : next;
    }
    case 'event':
      return applyEvent(state, action.event);
  }
}

function applyEvent(state: RunState, e: RunEvent): RunState {
  switch (e.type) {
    case 'runQueued':
      return setRun(state, e.runId, { status: 'queued' });
    case 'runStarted': {
      const nodes: Record<string, NodeRun> = {};
      for (const id of e.nodes) nodes[id] = { status: 'queued' };
      return { ...setRun(state, e.runId, { status: 'running' }), currentRunId: e.runId, nodes, problems: [] };
    }
    case 'nodeStarted':
      return setNode(state, e.runId, e.nodeId, { status: 'running' });
    case 'nodeProgress':
      return setNode(state, e.runId, e.nodeId, { status: 'running', value: e.value, max: e.max });
    case 'nodeCached':
      return setNode(state, e.runId, e.nodeId, { status: 'cached' });
    case 'nodeFinished': {
      const done: NodeRun =
        e.peakBytes === undefined
          ? { status: 'done', wallMs: e.wallMs }
          : { status: 'done', wallMs: e.wallMs, peakBytes: e.peakBytes };
      const s = setNode(state, e.runId, e.nodeId, done);
      return e.files.length ? { ...s, gallery: mergeFiles(s.gallery, e.files) } : s;
    }
    case 'nodeFailed': {
      const failed: NodeRun = {
        status: 'failed',
        error: e.error,
        ...(e.port ? { port: e.port } : {}),
        ...(e.param ? { param: e.param } : {}),
      };
      return setNode(state, e.runId, e.nodeId, failed);
    }
    case 'runFinished': {
      const s = ended(setRun(state, e.runId, { status: 'finished', wallMs: e.wallMs }));
      return e.files.length ? { ...s, gallery: mergeFiles(s.gallery, e.files) } : s;
    }
    case 'runFailed': {
      let s = ended(setRun(state, e.runId, { status: 'failed', error: e.error }));
      if (e.nodeId && s.nodes[e.nodeId]?.status !== 'failed')
        s = setNode(s, e.runId, e.nodeId, { status: 'failed', error: e.error });
      if (s.currentRunId !== e.runId) return s;
      // Nodes still waiting will not run: they go back to no status rather than "queued" for ever.
      return { ...s, nodes: Object.fromEntries(Object.entries(s.nodes).filter(([, n]) => n.status !== 'queued')) };
    }
    case 'runInterrupted': {
      const s = ended(setRun(state, e.runId, { status: 'interrupted' }));
      return s.currentRunId === e.runId ? stopNodes(s) : s;
    }
  }
}

const LOST: RunInfo = { status: 'interrupted', error: 'the runtime no longer lists this run (it restarted)' };

const isPending = (r: RunInfo) => r.status === 'queued' || r.status === 'running';

/** Running and queued nodes of the run on screen become interrupted. */
function stopNodes(state: RunState): RunState {
  const nodes = Object.fromEntries(
    Object.entries(state.nodes).map(([id, n]) => [
      id,
      n.status === 'running' || n.status === 'queued' ? { status: 'interrupted' as const } : n,
    ]),
  );
  return { ...state, nodes };
}

function ended(state: RunState): RunState {
  return { ...state, historyVersion: state.historyVersion + 1 };
}

function setRun(state: RunState, runId: string, info: RunInfo): RunState {
  return { ...state, runs: { ...state.runs, [runId]: info } };
}

function setNode(state: RunState, runId: string, nodeId: string, node: NodeRun): RunState {
  // Events of a run other than the one on screen (e.g. a late event of an old run) do not repaint nodes.
  if (state.currentRunId !== runId) return state;
  return { ...state, nodes: { ...state.nodes, [nodeId]: node } };
}

/** A run's files (newest last) go on top; a file already listed moves up rather than showing twice (a cached
 *  Save Image reports the file it wrote before). */
function mergeFiles(gallery: readonly string[], files: readonly string[]): string[] {
  return unique([...[...files].reverse(), ...gallery]).slice(0, GALLERY_LIMIT);
}

function unique(files: readonly string[]): string[] {
  return [...new Set(files)];
}

/** Runs waiting (not running), for the queue counter. */
export function queuedRuns(state: RunState): number {
  return Object.values(state.runs).filter((r) => r.status === 'queued').length;
}

/** Runs waiting or running. */
export function pendingRuns(state: RunState): number {
  return Object.values(state.runs).filter(isPending).length;
}

/** Problems grouped by node id ('' for workflow-level ones). */
export function problemsByNode(problems: readonly Problem[]): Map<string, Problem[]> {
  const map = new Map<string, Problem[]>();
  for (const p of problems) {
    const keys = new Set([...(p.nodeId ? [p.nodeId] : []), ...(p.nodes ?? [])]);
    if (keys.size === 0) keys.add('');
    for (const key of keys) map.set(key, [...(map.get(key) ?? []), p]);
  }
  return map;
}
