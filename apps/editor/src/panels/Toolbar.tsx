import type { ReactNode } from 'react';
import type { Example } from '../files/examples.ts';
import type { ConnectionStatus } from '../runtime/run-state.ts';

// The top bar: files, examples, running, history, view. One row down to 1024 px wide: labels that can wait
// (the connection's words, the progress details) shrink first.

interface Props {
  readonly name: string;
  readonly dirty: boolean;
  readonly canUndo: boolean;
  readonly canRedo: boolean;
  readonly examples: readonly Example[];
  readonly connection: ConnectionStatus;
  /** Runs waiting, not counting the running ones. */
  readonly queued: number;
  readonly batch: number;
  readonly running: boolean;
  /** The running run's progress (RunProgressView). */
  readonly progress: ReactNode;
  onRename(name: string): void;
  onNew(): void;
  onOpen(): void;
  onSave(): void;
  onExample(name: string): void;
  onRun(): void;
  onBatch(n: number): void;
  onInterrupt(): void;
  onUndo(): void;
  onRedo(): void;
  onFit(): void;
  onHelp(): void;
}

const CONNECTION_LABEL: Record<ConnectionStatus, string> = {
  open: 'connected',
  connecting: 'connecting…',
  closed: 'disconnected — retrying',
};

export function queueLabel(queued: number, running: boolean): string {
  if (queued > 0) return `${queued} queued`;
  return running ? 'running' : 'idle';
}

export function Toolbar(p: Props) {
  return (
    <header className="toolbar" data-testid="toolbar">
      <span className="brand">sdflow</span>
      <span className="doc-name" data-testid="doc-name">
        <input
          className="doc-name-input"
          data-testid="doc-name-input"
          aria-label="Workflow name"
          title="Workflow name (Save uses it for the file name)"
          value={p.name}
          placeholder="untitled"
          onChange={(e) => p.onRename(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && e.currentTarget.blur()}
        />
        {p.dirty && (
          <span className="unsaved" data-testid="unsaved-marker" title="Unsaved changes">
            ●
          </span>
        )}
      </span>
      <button type="button" onClick={p.onNew} data-testid="btn-new" title="New empty workflow">
        New
      </button>
      <button
        type="button"
        onClick={p.onOpen}
        data-testid="btn-open"
        title="Open a .json workflow or a PNG made by Save Image (Ctrl+O)"
      >
        Open
      </button>
      <button type="button" onClick={p.onSave} data-testid="btn-save" title="Download the workflow as JSON (Ctrl+S)">
        Save
      </button>
      <select
        className="examples"
        data-testid="examples"
        value=""
        onChange={(e) => e.target.value && p.onExample(e.target.value)}
        title="Example workflows"
      >
        <option value="">Examples…</option>
        {p.examples.map((ex) => (
          <option key={ex.name} value={ex.name}>
            {ex.name}
          </option>
        ))}
      </select>
      <span className="sep" />
      <button type="button" onClick={p.onUndo} disabled={!p.canUndo} data-testid="btn-undo" title="Undo (Ctrl+Z)">
        ↶
      </button>
      <button type="button" onClick={p.onRedo} disabled={!p.canRedo} data-testid="btn-redo" title="Redo (Ctrl+Shift+Z)">
        ↷
      </button>
      <button type="button" onClick={p.onFit} data-testid="btn-fit" title="Fit view (F)">
        ⤢
      </button>
      <span className="sep" />
      <button
        type="button"
        className="primary"
        onClick={p.onRun}
        data-testid="btn-run"
        title="Queue a run (Ctrl+Enter)"
      >
        ▶ Run
      </button>
      <label className="batch" title="How many runs each click queues">
        ×
        <input
          type="number"
          min={1}
          max={100}
          value={p.batch}
          data-testid="batch-count"
          onChange={(e) => p.onBatch(Math.max(1, Math.min(100, Math.round(Number(e.target.value) || 1))))}
        />
      </label>
      <button
        type="button"
        onClick={p.onInterrupt}
        disabled={!p.running && p.queued === 0}
        data-testid="btn-interrupt"
        title="Stop the running run (or drop the next queued one)"
      >
        ■ Stop
      </button>
      <span className="queue" data-testid="queue-count">
        {queueLabel(p.queued, p.running)}
      </span>
      {p.progress}
      <span className="spacer" />
      <span
        className={`connection connection-${p.connection}`}
        data-testid="connection-status"
        data-status={p.connection}
        title={CONNECTION_LABEL[p.connection]}
      >
        <span className="dot" />
        {/* Connected is the normal case: the green dot says it (and its tooltip); trouble is spelled out. */}
        {p.connection !== 'open' && <span className="connection-label">{CONNECTION_LABEL[p.connection]}</span>}
      </span>
      <button type="button" onClick={p.onHelp} data-testid="btn-help" title="Keyboard shortcuts (?)">
        ?
      </button>
    </header>
  );
}
