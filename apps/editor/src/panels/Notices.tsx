import type { Problem } from '@sdflow/nodes/protocol/events.ts';

// Messages that are not about one node: refusals, file errors, workflow-level validation problems.

export function Notices({
  notice,
  message,
  problems,
  onDismiss,
}: {
  notice?: string | undefined;
  message?: string | undefined;
  problems: readonly Problem[];
  onDismiss(): void;
}) {
  const general = problems.filter((p) => !p.nodeId && !p.nodes?.length);
  if (!notice && !message && general.length === 0) return null;
  return (
    <div className="notices" data-testid="notices">
      {notice && (
        <div className="notice notice-refusal" data-testid="notice">
          {notice}
        </div>
      )}
      {message && (
        <div className="notice notice-error" data-testid="message">
          {message}
        </div>
      )}
      {general.map((p) => (
        <div className="notice notice-error" key={`${p.code}:${p.message}`} data-testid="workflow-problem">
          {p.message}
        </div>
      ))}
      <button type="button" onClick={onDismiss} className="notice-close" title="Dismiss">
        ×
      </button>
    </div>
  );
}
