import { createContext, useContext } from 'react';
import type { Catalog } from './catalog/catalog.ts';
import type { HistoryAction } from './document/actions.ts';
import type { ModelOption } from './runtime/api.ts';
import type { RuntimeSession } from './runtime/runtime-session.ts';
import type { Store } from './runtime/store.ts';

// What every node view needs from the app; changes rarely (catalogue, model list, seed modes).

export type SeedMode = 'fixed' | 'randomize';

export interface EditorApi {
  readonly catalog: Catalog;
  readonly models: readonly ModelOption[];
  readonly session: RuntimeSession;
  readonly seedModes: Readonly<Record<string, SeedMode>>;
  /** Nodes edited since the run on screen: its results no longer describe them. */
  readonly stale: Store<ReadonlySet<string>>;
  dispatch(action: HistoryAction): void;
  setSeedMode(key: string, mode: SeedMode): void;
}

export const EditorContext = createContext<EditorApi | null>(null);

export function useEditor(): EditorApi {
  const api = useContext(EditorContext);
  if (!api) throw new Error('useEditor outside <EditorContext.Provider>');
  return api;
}

export const seedKey = (nodeId: string, param: string) => `${nodeId}.${param}`;
