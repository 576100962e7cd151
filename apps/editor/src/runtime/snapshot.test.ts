import { describe, expect, it } from 'vitest';
import { initialRunState, runReducer } from './run-state.ts';
import { snapshotActions } from './snapshot.ts';

describe('snapshotActions', () => {
  it('resyncs a run in progress: node states, queue and gallery', () => {
    const actions = snapshotActions({
      queue: [{ runId: 'r3', queuedAt: 3 }],
      running: {
        runId: 'r2',
        queuedAt: 2,
        startedAt: 2,
        nodes: ['a', 'b', 'c'],
        nodeStates: { a: { status: 'cached', files: [] }, b: { status: 'running', value: 3, max: 8, files: [] } },
      },
      active: [],
      history: [
        { runId: 'r1', queuedAt: 1, finishedAt: 1, status: 'finished', files: ['x.png', 'y.png'], nodeStates: {} },
      ],
    });
    const s = actions.reduce(runReducer, initialRunState);
    expect(s.currentRunId).toBe('r2');
    expect(s.nodes).toEqual({
      a: { status: 'cached' },
      b: { status: 'running', value: 3, max: 8 },
      c: { status: 'queued' },
    });
    expect(s.runs).toEqual({ r1: { status: 'finished' }, r2: { status: 'running' }, r3: { status: 'queued' } });
    // The gallery comes from the output folder's listing, not from history (where a cached run repeats a file).
    expect(s.gallery).toEqual([]);
    // Later events of the resynced run keep painting.
    const t = runReducer(s, {
      type: 'event',
      event: { type: 'nodeProgress', runId: 'r2', nodeId: 'b', value: 4, max: 8 },
    });
    expect(t.nodes.b).toEqual({ status: 'running', value: 4, max: 8 });
  });

  it('with nothing running, shows the last finished run; its nodes that never ran get no status', () => {
    const actions = snapshotActions({
      queue: [],
      running: null,
      active: [],
      history: [
        {
          runId: 'r1',
          queuedAt: 1,
          finishedAt: 1,
          status: 'failed',
          error: 'x',
          files: [],
          nodeStates: { a: { status: 'failed', error: 'x', files: [] }, b: { status: 'pending', files: [] } },
        },
      ],
    });
    const s = actions.reduce(runReducer, initialRunState);
    expect(s.nodes).toEqual({ a: { status: 'failed', error: 'x' } });
  });

  it('follows the newest of several running runs (several workers)', () => {
    const run = (runId: string) => ({ runId, queuedAt: 1, startedAt: 1, nodes: ['a'], nodeStates: {} });
    const s = snapshotActions({ queue: [], running: run('r1'), active: [run('r1'), run('r2')], history: [] }).reduce(
      runReducer,
      initialRunState,
    );
    expect(s.currentRunId).toBe('r2');
    expect(s.runs).toEqual({ r1: { status: 'running' }, r2: { status: 'running' } });
  });
});
