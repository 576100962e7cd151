import type { NodeRunState, Snapshot } from '@sdflow/nodes/protocol/events.ts';
import type { NodeRun, NodeRunStatus, RunAction, RunInfo } from './run-state.ts';

// A (re)connecting client repaints from the runtime's snapshot: queue, the run in progress, recent history.

const STATUS: Record<NodeRunState['status'], NodeRunStatus> = {
  pending: 'queued',
  running: 'running',
  cached: 'cached',
  finished: 'done',
  failed: 'failed',
  interrupted: 'interrupted',
};

export function toNodeRun(s: NodeRunState): NodeRun {
  const out: { -readonly [K in keyof NodeRun]: NodeRun[K] } = { status: STATUS[s.status] };
  if (s.value !== undefined) out.value = s.value;
  if (s.max !== undefined) out.max = s.max;
  if (s.wallMs !== undefined) out.wallMs = s.wallMs;
  if (s.peakBytes !== undefined) out.peakBytes = s.peakBytes;
  if (s.error !== undefined) out.error = s.error;
  if (s.port !== undefined) out.port = s.port;
  if (s.param !== undefined) out.param = s.param;
  return out;
}

export function snapshotActions(snap: Snapshot): RunAction[] {
  const runs: Record<string, RunInfo> = {};
  for (const q of snap.queue) runs[q.runId] = { status: 'queued' };
  for (const h of snap.history) {
    runs[h.runId] = {
      status: h.status,
      ...(h.error ? { error: h.error } : {}),
      ...(h.wallMs !== undefined ? { wallMs: h.wallMs } : {}),
    };
  }
  const shown = snap.running ?? snap.history[0];
  const actions: RunAction[] = [];
  const files = snap.history.flatMap((h) => h.files);
  // The gallery keeps newest first; history is newest first, so feed it oldest first.
  if (files.length) actions.push({ type: 'gallery', files: [...files].reverse() });
  if (snap.running) {
    runs[snap.running.runId] = { status: 'running' };
    const nodes: Record<string, NodeRun> = {};
    for (const id of snap.running.nodes) nodes[id] = { status: 'queued' };
    for (const [id, s] of Object.entries(snap.running.nodeStates)) nodes[id] = toNodeRun(s);
    actions.push({ type: 'resync', runs, currentRunId: snap.running.runId, nodes });
  } else if (shown) {
    const nodes = Object.fromEntries(Object.entries(shown.nodeStates).map(([id, s]) => [id, toNodeRun(s)]));
    actions.push({ type: 'resync', runs, currentRunId: shown.runId, nodes });
  } else {
    actions.push({ type: 'resync', runs });
  }
  return actions;
}
