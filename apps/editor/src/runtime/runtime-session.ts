import type { ServerMessage } from '@sdflow/nodes/protocol/channel.ts';
import { initialRunState, type RunAction, type RunState, runReducer } from './run-state.ts';
import { connectRuntime, type RuntimeSocket } from './runtime-socket.ts';
import { snapshotActions } from './snapshot.ts';
import { createStore, type Store } from './store.ts';

// Glue between the socket and the stores the views read: run state and the latest preview per node.

export interface Preview {
  readonly url: string;
  readonly step: number;
  readonly runId: string;
}

export interface RuntimeSession {
  readonly runs: Store<RunState>;
  readonly previews: Store<Readonly<Record<string, Preview>>>;
  /** Called with the catalogue version from each hello, so the editor refetches a changed catalogue. */
  onHello?: (catalogVersion: string) => void;
  dispatch(action: RunAction): void;
  /** Drops node states, problems and previews (another workflow was opened). */
  forget(): void;
  close(): void;
}

export function startRuntimeSession(): RuntimeSession {
  const runs = createStore<RunState>(initialRunState);
  const previews = createStore<Readonly<Record<string, Preview>>>({});
  const dispatch = (action: RunAction) => runs.set(runReducer(runs.get(), action));
  let socket: RuntimeSocket | undefined;

  const session: RuntimeSession = {
    runs,
    previews,
    dispatch,
    forget() {
      dispatch({ type: 'forget' });
      for (const p of Object.values(previews.get())) URL.revokeObjectURL(p.url);
      previews.set({});
    },
    close: () => socket?.close(),
  };

  const onMessage = (m: ServerMessage) => {
    switch (m.type) {
      case 'preview': {
        const blob = new Blob([m.image as BlobPart], { type: m.mime });
        const old = previews.get()[m.nodeId];
        if (old) URL.revokeObjectURL(old.url);
        previews.set({
          ...previews.get(),
          [m.nodeId]: { url: URL.createObjectURL(blob), step: m.step, runId: m.runId },
        });
        return;
      }
      case 'hello':
        session.onHello?.(m.catalogVersion);
        socket?.send({ type: 'subscribe' });
        return;
      case 'snapshot':
        for (const a of snapshotActions(m)) dispatch(a);
        return;
      case 'validationFailed':
        dispatch({ type: 'problems', problems: m.problems });
        return;
      case 'error':
        dispatch({ type: 'message', message: m.message });
        return;
      case 'ack':
      case 'queueCleared':
        return;
      default:
        dispatch({ type: 'event', event: m });
    }
  };

  socket = connectRuntime({
    onMessage,
    onStatus: (status) => dispatch({ type: 'connection', status }),
  });
  return session;
}
