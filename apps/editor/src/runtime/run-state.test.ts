import type { RunEvent } from '@sdflow/nodes/protocol/events.ts';
import { describe, expect, it } from 'vitest';
import { initialRunState, pendingRuns, problemsByNode, type RunState, runReducer } from './run-state.ts';

const fold = (events: RunEvent[], from: RunState = initialRunState) =>
  events.reduce((s, event) => runReducer(s, { type: 'event', event }), from);

describe('runReducer', () => {
  it('follows a run: queued, running with progress, cached, done with timings, files to the gallery', () => {
    const s = fold([
      { type: 'runQueued', runId: 'r1', position: 0 },
      { type: 'runStarted', runId: 'r1', nodes: ['m', 'd', 's'] },
      { type: 'nodeCached', runId: 'r1', nodeId: 'm' },
      { type: 'nodeStarted', runId: 'r1', nodeId: 'd' },
      { type: 'nodeProgress', runId: 'r1', nodeId: 'd', value: 1, max: 4 },
    ]);
    expect(s.nodes).toEqual({
      m: { status: 'cached' },
      d: { status: 'running', value: 1, max: 4 },
      s: { status: 'queued' },
    });
    expect(pendingRuns(s)).toBe(1);
    const t = fold(
      [
        { type: 'nodeFinished', runId: 'r1', nodeId: 'd', wallMs: 12, peakBytes: 1024, files: [] },
        { type: 'nodeFinished', runId: 'r1', nodeId: 's', wallMs: 3, files: ['a.png'] },
        { type: 'runFinished', runId: 'r1', wallMs: 20, files: ['a.png'] },
      ],
      s,
    );
    expect(t.nodes.d).toEqual({ status: 'done', wallMs: 12, peakBytes: 1024 });
    expect(t.gallery).toEqual(['a.png']);
    expect(t.runs.r1?.status).toBe('finished');
    expect(pendingRuns(t)).toBe(0);
  });

  it('marks the failing node with its error and port; nodes that never ran lose their "queued"', () => {
    const s = fold([
      { type: 'runStarted', runId: 'r1', nodes: ['m', 'a', 'b'] },
      { type: 'nodeFinished', runId: 'r1', nodeId: 'm', wallMs: 1, files: [] },
      { type: 'nodeFailed', runId: 'r1', nodeId: 'a', error: 'boom', port: 'latent' },
      { type: 'runFailed', runId: 'r1', error: 'boom', nodeId: 'a' },
    ]);
    expect(s.nodes).toEqual({
      m: { status: 'done', wallMs: 1 },
      a: { status: 'failed', error: 'boom', port: 'latent' },
    });
    expect(s.runs.r1).toEqual({ status: 'failed', error: 'boom' });
  });

  it('an interrupt stops running and queued nodes; events of another run do not repaint', () => {
    const s = fold([
      { type: 'runStarted', runId: 'r2', nodes: ['a', 'b'] },
      { type: 'nodeStarted', runId: 'r2', nodeId: 'a' },
      { type: 'nodeStarted', runId: 'old', nodeId: 'b' },
      { type: 'runInterrupted', runId: 'r2' },
    ]);
    expect(s.nodes).toEqual({ a: { status: 'interrupted' }, b: { status: 'interrupted' } });
  });

  it('keeps the newest files first without duplicates', () => {
    const s = fold([
      { type: 'runStarted', runId: 'r', nodes: [] },
      { type: 'runFinished', runId: 'r', wallMs: 1, files: ['1.png', '2.png'] },
      { type: 'runFinished', runId: 'r', wallMs: 1, files: ['2.png', '3.png'] },
    ]);
    expect(s.gallery).toEqual(['3.png', '2.png', '1.png']);
  });

  it('groups problems by node, cycles on every node concerned', () => {
    const map = problemsByNode([
      { code: 'missingInput', message: 'x', nodeId: 'a', port: 'clip' },
      { code: 'cycle', message: 'c', nodes: ['a', 'b'] },
      { code: 'noOutputs', message: 'n' },
    ]);
    expect(map.get('a')?.map((p) => p.code)).toEqual(['missingInput', 'cycle']);
    expect(map.get('b')?.length).toBe(1);
    expect(map.get('')?.[0]?.code).toBe('noOutputs');
  });
});

describe('forget', () => {
  it('drops node states and problems but keeps runs and the gallery', () => {
    const s = fold([
      { type: 'runStarted', runId: 'r', nodes: ['a'] },
      { type: 'runFinished', runId: 'r', wallMs: 1, files: ['x.png'] },
    ]);
    const t = runReducer(runReducer(s, { type: 'problems', problems: [{ code: 'cycle', message: 'c' }] }), {
      type: 'forget',
    });
    expect(t.nodes).toEqual({});
    expect(t.problems).toEqual([]);
    expect(t.currentRunId).toBeUndefined();
    expect(t.gallery).toEqual(['x.png']);
    // Events of the forgotten run no longer paint.
    expect(runReducer(t, { type: 'event', event: { type: 'nodeStarted', runId: 'r', nodeId: 'a' } }).nodes).toEqual({});
  });
});

describe('resync after the runtime restarted', () => {
  it('stops runs the snapshot no longer lists and the nodes of the one on screen; keeps finished ones', () => {
    const s = fold([
      { type: 'runStarted', runId: 'done', nodes: [] },
      { type: 'runFinished', runId: 'done', wallMs: 1, files: ['x.png'] },
      { type: 'runStarted', runId: 'r1', nodes: ['a', 'b', 'c'] },
      { type: 'nodeFinished', runId: 'r1', nodeId: 'a', wallMs: 1, files: [] },
      { type: 'nodeProgress', runId: 'r1', nodeId: 'b', value: 2, max: 9 },
      { type: 'runQueued', runId: 'r2', position: 0 },
    ]);
    expect(pendingRuns(s)).toBe(2);
    const t = runReducer(s, { type: 'resync', runs: {} });
    expect(pendingRuns(t)).toBe(0);
    expect(t.runs.r1?.status).toBe('interrupted');
    expect(t.runs.r2?.status).toBe('interrupted');
    expect(t.runs.done?.status).toBe('finished');
    expect(t.nodes).toEqual({
      a: { status: 'done', wallMs: 1 },
      b: { status: 'interrupted' },
      c: { status: 'interrupted' },
    });
    expect(t.gallery).toEqual(['x.png']);
  });

  it('leaves runs the snapshot still lists alone', () => {
    const s = fold([
      { type: 'runStarted', runId: 'r1', nodes: ['a'] },
      { type: 'nodeStarted', runId: 'r1', nodeId: 'a' },
    ]);
    const t = runReducer(s, { type: 'resync', runs: { r1: { status: 'running' } } });
    expect(t.runs.r1?.status).toBe('running');
    expect(t.nodes.a?.status).toBe('running');
  });
});
