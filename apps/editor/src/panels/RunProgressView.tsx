import { useEffect, useState } from 'react';
import { formatEta, runProgress } from '../runtime/run-progress.ts';
import type { RuntimeSession } from '../runtime/runtime-session.ts';
import { useStore } from '../runtime/store.ts';

// The running run in the toolbar: a bar, the percentage, the current step, it/s and time left.

export function RunProgressView({ session }: { session: RuntimeSession }) {
  const running = useStore(
    session.runs,
    (s) => s.currentRunId !== undefined && s.runs[s.currentRunId]?.status === 'running',
  );
  const nodes = useStore(session.runs, (s) => s.nodes);
  const clock = useStore(session.steps, (s) => s);
  // Re-render once a second so the ETA counts down between steps of a slow model.
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setTick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [running]);
  if (!running) return null;
  const p = runProgress(nodes, clock);
  const parts = [`${p.percent}%`];
  if (p.step !== undefined) parts.push(`${p.step}/${p.steps}`);
  if (p.itPerSec !== undefined) parts.push(`${p.itPerSec.toFixed(p.itPerSec < 10 ? 2 : 1)} it/s`);
  if (p.etaMs !== undefined) parts.push(`ETA ${formatEta(p.etaMs)}`);
  const text = parts.join(' · ');
  return (
    <span className="run-progress" data-testid="run-progress" data-percent={p.percent} title={text}>
      <span className="run-progress-track">
        <span className="run-progress-bar" style={{ width: `${p.percent}%` }} />
      </span>
      <span className="run-progress-text">{text}</span>
    </span>
  );
}
