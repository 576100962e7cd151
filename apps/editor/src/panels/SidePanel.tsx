import { type ReactNode, useState } from 'react';

// The right-hand column: the outputs gallery and the queue/history, one at a time.

export type SideTab = 'outputs' | 'runs';

const TABS: readonly [SideTab, string][] = [
  ['outputs', 'Outputs'],
  ['runs', 'Runs'],
];

export function SidePanel({ outputs, runs, runCount }: { outputs: ReactNode; runs: ReactNode; runCount: number }) {
  const [tab, setTab] = useState<SideTab>('outputs');
  return (
    <aside className="side-panel" data-testid="side-panel">
      <div className="side-tabs" role="tablist">
        {TABS.map(([id, label]) => (
          <button
            type="button"
            role="tab"
            key={id}
            aria-selected={tab === id}
            data-testid={`tab-${id}`}
            onClick={() => setTab(id)}
          >
            {label}
            {id === 'runs' && runCount > 0 ? ` (${runCount})` : ''}
          </button>
        ))}
      </div>
      <div className="side-body">{tab === 'outputs' ? outputs : runs}</div>
    </aside>
  );
}
