import type { NodeRunState, Snapshot } from '@sdflow/nodes/protocol/events.ts';
import type { NodeRun, NodeRunStatus, RunAction, RunInfo } from './run-state.ts';

// A (re)connecting client repaints from the runtime's snapshot: queue, the runs in progress, recent history.
// The gallery is not taken from here: the output folder's listing (GET /api/outputs) is the one truth.

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
  // Several runs may run at once (several devices or workers); the canvas follows the newest one started.
  const active = snap.active.length ? snap.active : snap.running ? [snap.running] : [];
  for (const r of active) runs[r.runId] = { status: 'running' };
  const running = active.at(-1);
  if (running) {
    const nodes: Record<string, NodeRun> = {};
    for (const id of running.nodes) nodes[id] = { status: 'queued' };
    for (const [id, s] of Object.entries(running.nodeStates)) nodes[id] = toNodeRun(s);
    return [{ type: 'resync', runs, currentRunId: running.runId, nodes }];
  }
  const last = snap.history[0];
  if (last) {
    // A finished run's nodes that never ran (after a failure) are not "queued": they get no status.
    const nodes = Object.fromEntries(
      Object.entries(last.nodeStates)
        .filter(([, s]) => s.status !== 'pending' && s.status !== 'running')
        .map(([id, s]) => [id, toNodeRun(s)]),
    );
    return [{ type: 'resync', runs, currentRunId: last.runId, nodes }];
  }
  return [{ type: 'resync', runs }];
}
