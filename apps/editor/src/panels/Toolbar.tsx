import type { Example } from '../files/examples.ts';
import type { ConnectionStatus } from '../runtime/run-state.ts';

// The top bar: files, examples, running, history, view.

interface Props {
  readonly name: string;
  readonly dirty: boolean;
  readonly canUndo: boolean;
  readonly canRedo: boolean;
  readonly examples: readonly Example[];
  readonly connection: ConnectionStatus;
  readonly pending: number;
  readonly batch: number;
  readonly running: boolean;
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

export function Toolbar(p: Props) {
  return (
    <header className="toolbar" data-testid="toolbar">
      <span className="brand">sdflow</span>
      <span className="doc-name" data-testid="doc-name">
        {p.name}
        {p.dirty && (
          <span className="unsaved" data-testid="unsaved-marker" title="Unsaved changes">
            {' '}
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
        disabled={!p.running}
        data-testid="btn-interrupt"
        title="Stop the running run"
      >
        ■ Stop
      </button>
      <span className="queue" data-testid="queue-count">
        {p.pending > 0 ? `${p.pending} in queue` : 'idle'}
      </span>
      <span className="spacer" />
      <span
        className={`connection connection-${p.connection}`}
        data-testid="connection-status"
        data-status={p.connection}
      >
        <span className="dot" />
        {CONNECTION_LABEL[p.connection]}
      </span>
      <button type="button" onClick={p.onHelp} data-testid="btn-help" title="Keyboard shortcuts (?)">
        ?
      </button>
    </header>
  );
}
