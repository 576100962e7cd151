import { describe, expect, it } from 'vitest';
import { formatEta, runProgress } from './run-progress.ts';

describe('runProgress', () => {
  it('counts finished nodes and the steps of the running one; it/s and ETA from the first step seen', () => {
    const nodes = {
      a: { status: 'cached' as const },
      b: { status: 'running' as const, value: 5, max: 10 },
      c: { status: 'queued' as const },
      d: { status: 'queued' as const },
    };
    const clock = { runId: 'r', nodeId: 'b', firstAt: 1000, firstValue: 1, at: 3000, value: 5, max: 10 };
    expect(runProgress(nodes, clock)).toEqual({ percent: 38, step: 5, steps: 10, itPerSec: 2, etaMs: 2500 });
  });

  it('without a stepping node: the share of nodes only', () => {
    expect(runProgress({ a: { status: 'done' }, b: { status: 'running' } }, undefined)).toEqual({ percent: 50 });
    expect(runProgress({}, undefined)).toEqual({ percent: 0 });
  });

  it('writes the time left short enough for the toolbar', () => {
    expect([formatEta(400), formatEta(12_400), formatEta(492_000)]).toEqual(['<1 s', '12 s', '8m12s']);
  });
});
