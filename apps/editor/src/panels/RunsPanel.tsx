import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { FinishedRun, QueuedRun } from '@sdflow/nodes/protocol/events.ts';
import { useEffect, useState } from 'react';
import { formatMs } from '../nodes/NodeStatus.tsx';
import { clearQueue, deleteHistory, fetchQueue, fetchRunWorkflow, interruptRun, outputUrl } from '../runtime/api.ts';
import type { RunState } from '../runtime/run-state.ts';
import { useHistory } from '../runtime/useHistory.ts';

// The queue and the history, as the runtime holds them: cancel a queued run, clear the queue, open or rerun a
// past run's workflow, delete history entries. Every change comes back as an event, so all tabs agree.

interface Props {
  readonly runState: RunState;
  onOpenWorkflow(workflow: Workflow): void;
  onRunWorkflow(workflow: Workflow): void;
  onOpenImage(name: string): void;
  onError(message: string): void;
}

const STATUS_LABEL: Record<string, string> = {
  queued: 'queued',
  running: 'running',
  finished: 'done',
  failed: 'failed',
  interrupted: 'stopped',
};

export function RunsPanel({ runState, onOpenWorkflow, onRunWorkflow, onOpenImage, onError }: Props) {
  const pending = Object.entries(runState.runs).filter(([, r]) => r.status === 'queued' || r.status === 'running');
  const pendingIds = pending.map(([id]) => id);
  // Refetched when a run joins, leaves or starts: the listing carries names and times the events do not.
  const pendingKey = pending.map(([id, r]) => `${id}:${r.status}`).join(',');
  const [queue, setQueue] = useState<readonly QueuedRun[]>([]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: refetched whenever the set of pending runs changes.
  useEffect(() => {
    let cancelled = false;
    fetchQueue().then(
      (q) => !cancelled && setQueue(q),
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [pendingKey]);
  const history = useHistory(runState.historyVersion);
  const act = (p: Promise<unknown>) => p.catch((e: unknown) => onError(e instanceof Error ? e.message : String(e)));
  const withWorkflow = (runId: string, then: (wf: Workflow) => void) =>
    act(
      fetchRunWorkflow(runId).then((wf) => {
        if (!wf) throw new Error('the runtime no longer has this run’s workflow');
        then(wf);
      }),
    );
  // What is pending comes from the run events (always current); the listing adds names and times, and its order.
  const listed = new Map(queue.map((q, i) => [q.runId, { q, i }]));
  const shownQueue: QueuedRun[] = pendingIds
    .map((runId) => listed.get(runId)?.q ?? { runId, queuedAt: Number.NaN })
    .sort((a, b) => (listed.get(a.runId)?.i ?? 1e9) - (listed.get(b.runId)?.i ?? 1e9));

  return (
    <div className="runs-panel" data-testid="runs-panel">
      <div className="runs-head">
        <h3>Queue</h3>
        <button
          type="button"
          data-testid="btn-clear-queue"
          disabled={!shownQueue.some((q) => runState.runs[q.runId]?.status === 'queued')}
          onClick={() => act(clearQueue())}
        >
          Clear
        </button>
      </div>
      {shownQueue.length === 0 && <p className="muted">Nothing waiting.</p>}
      <ul className="runs-list">
        {shownQueue.map((q) => {
          const status = runState.runs[q.runId]?.status ?? 'queued';
          return (
            <li
              key={q.runId}
              className={`run-entry run-${status}`}
              data-testid="queue-entry"
              data-run={q.runId}
              data-status={status}
            >
              <div className="run-line">
                <span className={`run-badge badge-${status}`}>{STATUS_LABEL[status]}</span>
                <span className="run-name">{q.name ?? 'untitled'}</span>
                <button
                  type="button"
                  data-testid="btn-cancel-run"
                  title={status === 'running' ? 'Stop this run' : 'Remove from the queue'}
                  onClick={() => act(interruptRun(q.runId))}
                >
                  ✕
                </button>
              </div>
              {Number.isFinite(q.queuedAt) && <div className="run-meta muted">queued {clock(q.queuedAt)}</div>}
            </li>
          );
        })}
      </ul>
      <div className="runs-head">
        <h3>History</h3>
        <button
          type="button"
          data-testid="btn-clear-history"
          disabled={history.runs.length === 0}
          onClick={() => act(deleteHistory().then(history.refresh))}
        >
          Clear
        </button>
      </div>
      {history.error && <p className="sd-node-error">{history.error}</p>}
      {history.runs.length === 0 && !history.error && <p className="muted">No finished runs.</p>}
      <ul className="runs-list">
        {history.runs.map((r) => (
          <HistoryEntry
            key={r.runId}
            run={r}
            onOpen={() => withWorkflow(r.runId, onOpenWorkflow)}
            onRerun={() => withWorkflow(r.runId, onRunWorkflow)}
            onDelete={() => act(deleteHistory(r.runId).then(history.refresh))}
            onOpenImage={onOpenImage}
          />
        ))}
      </ul>
      {history.more && (
        <button type="button" className="runs-more" data-testid="btn-history-more" onClick={history.loadMore}>
          Older runs…
        </button>
      )}
    </div>
  );
}

function HistoryEntry({
  run,
  onOpen,
  onRerun,
  onDelete,
  onOpenImage,
}: {
  run: FinishedRun;
  onOpen(): void;
  onRerun(): void;
  onDelete(): void;
  onOpenImage(name: string): void;
}) {
  const images = run.files.filter((f) => /\.(png|jpe?g|webp)$/i.test(f));
  return (
    <li
      className={`run-entry run-${run.status}`}
      data-testid="history-entry"
      data-run={run.runId}
      data-status={run.status}
    >
      <div className="run-line">
        <span className={`run-badge badge-${run.status}`}>{STATUS_LABEL[run.status]}</span>
        <span className="run-name" title={run.name}>
          {run.name ?? 'untitled'}
        </span>
      </div>
      <div className="run-meta muted">
        {clock(run.finishedAt)}
        {run.wallMs !== undefined ? ` · ${formatMs(run.wallMs)}` : ''}
        {run.attempts !== undefined && run.attempts > 1 ? ` · ${run.attempts} attempts` : ''}
        {run.worker ? ` · ${run.worker}` : ''}
      </div>
      {run.status === 'failed' && (
        <div className="run-error" data-testid="history-error">
          {run.nodeId ? <b>{run.nodeId}: </b> : null}
          {run.error ?? 'failed'}
        </div>
      )}
      {images.length > 0 && (
        <div className="run-thumbs">
          {images.map((f) => (
            <button type="button" key={f} className="run-thumb" title={f} onClick={() => onOpenImage(f)}>
              <img src={outputUrl(f)} alt={f} data-testid="history-thumb" />
            </button>
          ))}
        </div>
      )}
      <div className="run-actions">
        <button type="button" data-testid="btn-history-open" title="Open this run’s workflow" onClick={onOpen}>
          Open
        </button>
        <button type="button" data-testid="btn-history-rerun" title="Queue this run’s workflow again" onClick={onRerun}>
          Run again
        </button>
        <button type="button" data-testid="btn-history-delete" title="Delete from the history" onClick={onDelete}>
          Delete
        </button>
      </div>
    </li>
  );
}

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
