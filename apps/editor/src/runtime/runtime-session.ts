import type { ServerMessage } from '@sdflow/nodes/protocol/channel.ts';
import { fetchOutputs, fetchRunWorkflow } from './api.ts';
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

/** The first and latest step seen of the node stepping now, for it/s and ETA. */
export interface StepClock {
  readonly runId: string;
  readonly nodeId: string;
  readonly firstAt: number;
  readonly firstValue: number;
  readonly at: number;
  readonly value: number;
  readonly max: number;
}

export interface RuntimeSession {
  readonly runs: Store<RunState>;
  readonly previews: Store<Readonly<Record<string, Preview>>>;
  readonly steps: Store<StepClock | undefined>;
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
  const steps = createStore<StepClock | undefined>(undefined);
  const dispatch = (action: RunAction) => runs.set(runReducer(runs.get(), action));
  let socket: RuntimeSocket | undefined;
  // Files reported by runs while the output listing was being fetched: the listing may predate them.
  let filesSinceListing: string[] = [];
  const refreshGallery = () => {
    filesSinceListing = [];
    fetchOutputs().then(
      (files) => dispatch({ type: 'gallery', replace: true, files: [...filesSinceListing.reverse(), ...files] }),
      () => undefined,
    );
  };
  // The canvas shows the latest run's results only on nodes still as that run had them: fetch its workflow.
  const learnWorkflow = (runId: string | undefined) => {
    if (runId === undefined || runs.get().workflows[runId]) return;
    fetchRunWorkflow(runId).then(
      (workflow) => workflow && dispatch({ type: 'runWorkflow', runId, workflow }),
      () => undefined,
    );
  };

  const session: RuntimeSession = {
    runs,
    previews,
    steps,
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
        learnWorkflow(runs.get().currentRunId);
        refreshGallery();
        return;
      case 'historyDeleted':
        dispatch({ type: 'historyDeleted', runIds: m.runIds });
        return;
      case 'serverStopping':
        dispatch({ type: 'message', message: 'the runtime is shutting down; queued runs resume when it is back' });
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
        if (m.type === 'nodeProgress') tick(m.runId, m.nodeId, m.value, m.max);
        if (m.type === 'runStarted') learnWorkflow(m.runId);
        if (m.type === 'runFinished' || m.type === 'nodeFinished') filesSinceListing.push(...m.files);
        dispatch({ type: 'event', event: m });
    }
  };
  const tick = (runId: string, nodeId: string, value: number, max: number) => {
    const at = performance.now();
    const cur = steps.get();
    const same = cur && cur.runId === runId && cur.nodeId === nodeId && value >= cur.value;
    steps.set(same ? { ...cur, at, value, max } : { runId, nodeId, firstAt: at, firstValue: value, at, value, max });
  };

  socket = connectRuntime({
    onMessage,
    onStatus: (status) => dispatch({ type: 'connection', status }),
  });
  return session;
}
