import type { Api } from './api.ts';

// The whole history through the paged API, and polling for a condition on a real server.

export interface HistoryRun {
  readonly runId: string;
  readonly status: string;
  readonly attempts?: number;
  readonly files: string[];
  readonly worker?: string;
}

/** Every ended run, newest first, read a small page at a time (so paging itself is exercised). */
export async function historyOf(api: Api): Promise<HistoryRun[]> {
  const runs: HistoryRun[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await api.json<{ runs: HistoryRun[]; next?: string }>(
      `/api/history?limit=7${before ? `&before=${before}` : ''}`,
    );
    runs.push(...page.runs);
    if (!page.next) return runs;
    before = page.next;
  }
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
