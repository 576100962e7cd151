import { useEffect, useRef, useState } from 'react';
import { type Catalog, EMPTY_CATALOG } from '../catalog/catalog.ts';
import { fetchCatalog, fetchModels, type ModelOption } from './api.ts';
import type { RuntimeSession } from './runtime-session.ts';

// The catalogue and model list, fetched at start, retried until the runtime answers, and refetched when
// a hello announces a different catalogue version.

export function useRuntimeData(session: RuntimeSession): { catalog: Catalog; models: ModelOption[]; error?: string } {
  const [catalog, setCatalog] = useState<Catalog>(EMPTY_CATALOG);
  const [models, setModels] = useState<ModelOption[]>([]);
  const [error, setError] = useState<string>();
  const [attempt, setAttempt] = useState(0);
  const version = useRef('');
  version.current = catalog.version;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` exists to re-run this fetch.
  useEffect(() => {
    let cancelled = false;
    fetchCatalog()
      .then((c) => {
        if (cancelled) return;
        setCatalog(c);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (cancelled) return;
        setError(`catalogue: ${e instanceof Error ? e.message : String(e)}`);
        setTimeout(() => setAttempt((a) => a + 1), 2000);
      });
    fetchModels()
      .then((m) => !cancelled && setModels(m))
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  useEffect(() => {
    session.onHello = (announced) => {
      if (announced !== version.current) setAttempt((a) => a + 1);
    };
    return () => {
      session.onHello = undefined;
    };
  }, [session]);

  return error === undefined ? { catalog, models } : { catalog, models, error };
}
