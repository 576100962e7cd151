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
    expect(s.gallery).toEqual(['x.png', 'y.png']);
    // Later events of the resynced run keep painting.
    const t = runReducer(s, {
      type: 'event',
      event: { type: 'nodeProgress', runId: 'r2', nodeId: 'b', value: 4, max: 8 },
    });
    expect(t.nodes.b).toEqual({ status: 'running', value: 4, max: 8 });
  });

  it('with nothing running, shows the last finished run', () => {
    const actions = snapshotActions({
      queue: [],
      running: null,
      history: [
        {
          runId: 'r1',
          queuedAt: 1,
          finishedAt: 1,
          status: 'failed',
          error: 'x',
          files: [],
          nodeStates: { a: { status: 'failed', error: 'x', files: [] } },
        },
      ],
    });
    const s = actions.reduce(runReducer, initialRunState);
    expect(s.nodes.a).toEqual({ status: 'failed', error: 'x' });
  });
});
