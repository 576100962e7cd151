import type { FinishedRun } from '@sdflow/nodes/protocol/events.ts';
import { useCallback, useEffect, useState } from 'react';
import { fetchHistory } from './api.ts';

// The runtime's run history, a page at a time, refetched whenever it changes (a run ended in any tab, entries
// were deleted, the socket reconnected): the panel always shows what the server holds.

const PAGE = 20;

export function useHistory(version: number): {
  runs: readonly FinishedRun[];
  more: boolean;
  loadMore(): void;
  refresh(): void;
  error?: string;
} {
  const [pages, setPages] = useState(1);
  const [runs, setRuns] = useState<readonly FinishedRun[]>([]);
  const [next, setNext] = useState<string>();
  const [error, setError] = useState<string>();
  const [nonce, setNonce] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` and `nonce` exist to trigger a refetch.
  useEffect(() => {
    let cancelled = false;
    (async () => {
      // Refetch every page shown so far from the top: deletions and new runs shift the cursors.
      let all: FinishedRun[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < pages; i++) {
        const page = await fetchHistory(PAGE, cursor);
        all = [...all, ...page.runs];
        cursor = page.next;
        if (!cursor) break;
      }
      return { all, cursor };
    })().then(
      ({ all, cursor }) => {
        if (cancelled) return;
        setRuns(all);
        setNext(cursor);
        setError(undefined);
      },
      (e: unknown) => !cancelled && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [version, pages, nonce]);
  const loadMore = useCallback(() => setPages((p) => p + 1), []);
  const refresh = useCallback(() => setNonce((n) => n + 1), []);
  return error === undefined
    ? { runs, more: next !== undefined, loadMore, refresh }
    : { runs, more: false, loadMore, refresh, error };
}
