import type { NodeRun } from '../runtime/run-state.ts';

// The strip under a node that says how its last run went.

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

export function NodeStatus({ id, run }: { id: string; run: NodeRun }) {
  switch (run.status) {
    case 'queued':
      return (
        <div className="sd-node-status" data-testid={`status-${id}`}>
          queued
        </div>
      );
    case 'running': {
      const pct = run.max ? Math.min(100, (100 * (run.value ?? 0)) / run.max) : undefined;
      return (
        <div className="sd-node-status" data-testid={`status-${id}`}>
          <div className="progress" data-testid={`progress-${id}`} data-value={run.value ?? 0} data-max={run.max ?? 0}>
            <div
              className={`progress-bar${pct === undefined ? ' indeterminate' : ''}`}
              style={{ width: `${pct ?? 100}%` }}
            />
          </div>
          <span>{run.max ? `${run.value ?? 0} / ${run.max}` : 'running…'}</span>
        </div>
      );
    }
    case 'cached':
      return (
        <div className="sd-node-status" data-testid={`status-${id}`}>
          cached
        </div>
      );
    case 'done':
      return (
        <div className="sd-node-status" data-testid={`status-${id}`}>
          done in {formatMs(run.wallMs ?? 0)}
          {run.peakBytes !== undefined ? ` · peak ${formatBytes(run.peakBytes)}` : ''}
        </div>
      );
    case 'failed':
      return (
        <div className="sd-node-status sd-node-error" data-testid={`status-${id}`}>
          {run.error ?? 'failed'}
        </div>
      );
    case 'interrupted':
      return (
        <div className="sd-node-status" data-testid={`status-${id}`}>
          interrupted
        </div>
      );
  }
}
