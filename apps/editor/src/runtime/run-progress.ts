import type { NodeRun } from './run-state.ts';
import type { StepClock } from './runtime-session.ts';

// The running run as one figure for the toolbar: share of planned nodes done (a stepping node counts by its
// steps), the step of the node stepping now, its it/s and the time left for it.

export interface RunProgress {
  /** 0..100 */
  readonly percent: number;
  readonly step?: number;
  readonly steps?: number;
  readonly itPerSec?: number;
  readonly etaMs?: number;
}

export function runProgress(nodes: Readonly<Record<string, NodeRun>>, clock: StepClock | undefined): RunProgress {
  const all = Object.entries(nodes);
  if (all.length === 0) return { percent: 0 };
  let done = 0;
  for (const [, n] of all) {
    if (n.status === 'done' || n.status === 'cached' || n.status === 'failed') done += 1;
    else if (n.status === 'running' && n.max) done += Math.min(1, (n.value ?? 0) / n.max);
  }
  const percent = Math.round((100 * done) / all.length);
  const stepping = clock && nodes[clock.nodeId]?.status === 'running' ? clock : undefined;
  if (!stepping) return { percent };
  const seconds = (stepping.at - stepping.firstAt) / 1000;
  const stepsTaken = stepping.value - stepping.firstValue;
  // The first step's time includes warm-up (graph load), so the rate counts from the first step seen.
  const itPerSec = seconds > 0 && stepsTaken > 0 ? stepsTaken / seconds : undefined;
  return {
    percent,
    step: stepping.value,
    steps: stepping.max,
    ...(itPerSec === undefined ? {} : { itPerSec, etaMs: ((stepping.max - stepping.value) / itPerSec) * 1000 }),
  };
}

export function formatEta(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 1) return '<1 s';
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
