import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SdxlBackend } from '@sdflow/nodes/backend.ts';
import type { ModuleSpec } from '../engine/messages.ts';

// Runs inside the engine's worker: wraps the configured backend factory so that GET /api/stats can read the
// backend's own counters (its model store's sessions created / resident, whatever it exposes) through one
// method, `serverStats()`, whichever backend is plugged in.

interface Inspectable {
  readonly store?: { stats?: () => unknown };
  stats?: () => unknown;
  counters?: () => unknown;
}

export interface ServedBackendOptions {
  readonly inner: ModuleSpec;
}

export async function createServedBackend(opts: ServedBackendOptions): Promise<SdxlBackend> {
  const { inner } = opts;
  const url = isAbsolute(inner.module) ? pathToFileURL(inner.module).href : inner.module;
  const mod = (await import(url)) as Record<string, unknown>;
  const factory = mod[inner.export];
  if (typeof factory !== 'function') throw new Error(`${inner.module}: "${inner.export}" is not a function`);
  const backend = (await factory(inner.options)) as SdxlBackend & Inspectable;
  const serverStats = async () => ({
    ...(typeof backend.store?.stats === 'function' ? { store: await backend.store.stats() } : {}),
    ...(typeof backend.stats === 'function' ? { stats: await backend.stats() } : {}),
    ...(typeof backend.counters === 'function' ? { counters: await backend.counters() } : {}),
  });
  // Keep the backend object itself (its methods may rely on `this`), adding one method.
  return Object.assign(backend, { serverStats });
}
