import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';
import type { SdxlBackend } from '@sdflow/nodes/backend.ts';
import type { Catalog } from '@sdflow/nodes/catalog.ts';
import type { RunEvent } from '@sdflow/nodes/protocol/events.ts';
import type { Images } from '@sdflow/nodes/values.ts';
import { execute } from '../executor/execute.ts';
import { OutputCache } from '../executor/output-cache.ts';
import type { BackendStats, MainToWorker, ModuleSpec, WorkerInit, WorkerToMain } from './messages.ts';
import { toRgbFrame } from './preview-jpeg.ts';

// Worker side of the Engine: owns the backend (ONNX sessions), the catalog and the output cache, and runs
// one workflow at a time. onnxruntime's synchronous work blocks only this thread.

if (!parentPort) throw new Error('engine worker: must run inside a worker thread');
const port = parentPort;

interface State {
  backend: SdxlBackend;
  catalog: Catalog;
  cache: OutputCache;
  flag: Int32Array;
}
let state: State | undefined;
let current: { seq: number; controller: AbortController } | undefined;
// Posting is synchronous: kernels may hold this thread for a whole step, and events must not wait for it.
const post = (msg: WorkerToMain, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function importExport(spec: ModuleSpec): Promise<unknown> {
  const url = isAbsolute(spec.module) ? pathToFileURL(spec.module).href : spec.module;
  const mod = (await import(url)) as Record<string, unknown>;
  if (!(spec.export in mod)) throw new Error(`module ${spec.module} has no export "${spec.export}"`);
  return mod[spec.export];
}

async function init(spec: WorkerInit): Promise<void> {
  const factory = await importExport(spec.backend);
  if (typeof factory !== 'function')
    throw new Error(`${spec.backend.module}: "${spec.backend.export}" is not a function`);
  const backend = (await factory(spec.backend.options)) as SdxlBackend;
  const catalog = (await importExport(
    spec.catalog ?? { module: '@sdflow/nodes/catalog.ts', export: 'catalog' },
  )) as Catalog;
  state = { backend, catalog, cache: new OutputCache(spec.cacheBytes), flag: new Int32Array(spec.interruptFlag) };
}

/** Kernels hold the thread through whole steps; the main thread flags an interrupt in shared memory. */
function checkInterrupt(): void {
  if (current && state && Atomics.load(state.flag, 0) === current.seq) current.controller.abort();
}

function sendPreview(runId: string, nodeId: string, image: Images): void {
  try {
    const frame = toRgbFrame(image);
    post({ type: 'preview', runId, nodeId, frame }, [frame.rgb.buffer as ArrayBuffer]);
  } catch {
    // A malformed preview is skipped; the run itself is unaffected.
  }
}

async function run(msg: Extract<MainToWorker, { type: 'run' }>): Promise<void> {
  if (!state) throw new Error('engine worker: run before init');
  const controller = new AbortController();
  current = { seq: msg.seq, controller };
  const flag = state.flag;
  Atomics.store(flag, 1, 0);
  checkInterrupt();
  const emit = (event: RunEvent): void => {
    // Store before the check: an interrupt that reads progress p is then seen by step p + 1 at the latest.
    if (event.type === 'nodeProgress') Atomics.store(flag, 1, event.value);
    checkInterrupt();
    post({ type: 'event', event });
  };
  try {
    const result = await execute(msg.workflow, {
      catalog: state.catalog,
      backend: state.backend,
      cache: state.cache,
      emit,
      signal: controller.signal,
      runId: msg.runId,
      ...(msg.targets ? { targets: msg.targets } : {}),
      onPreview: (nodeId, image) => {
        checkInterrupt();
        sendPreview(msg.runId, nodeId, image);
      },
    });
    post({ type: 'runDone', seq: msg.seq, result });
  } finally {
    current = undefined;
  }
}

/** Whatever counters the backend keeps (its model store's, its own), for GET /api/stats; any backend may plug in. */
async function backendStats(backend: SdxlBackend): Promise<BackendStats> {
  const b = backend as SdxlBackend & {
    readonly store?: { stats?: () => unknown };
    stats?: () => unknown;
    counters?: () => unknown;
  };
  return {
    ...(typeof b.store?.stats === 'function' ? { store: await b.store.stats() } : {}),
    ...(typeof b.stats === 'function' ? { stats: await b.stats() } : {}),
    ...(typeof b.counters === 'function' ? { counters: await b.counters() } : {}),
  };
}

async function request(msg: Extract<MainToWorker, { type: 'request' }>): Promise<unknown> {
  if (!state) throw new Error('engine worker: request before init');
  switch (msg.op) {
    case 'clearCache':
      state.cache.clear();
      return undefined;
    case 'cacheStats':
      return state.cache.stats();
    case 'backendStats':
      return backendStats(state.backend);
    case 'callBackend': {
      const fn = (state.backend as unknown as Record<string, unknown>)[msg.method];
      if (typeof fn !== 'function') throw new Error(`backend has no method "${msg.method}"`);
      return await (fn as (...a: unknown[]) => unknown).apply(state.backend, [...msg.args]);
    }
  }
}

port.on('message', (msg: MainToWorker) => {
  switch (msg.type) {
    case 'init':
      init(msg.init).then(
        () => post({ type: 'ready' }),
        (err) => post({ type: 'initFailed', error: errorText(err) }),
      );
      return;
    case 'run':
      // execute() reports every failure as events; anything escaping it is a bug worth crashing for.
      void run(msg);
      return;
    case 'interrupt':
      if (current?.seq === msg.seq) current.controller.abort();
      return;
    case 'request':
      request(msg).then(
        (value) => post({ type: 'response', id: msg.id, ok: true, value }),
        (err) => post({ type: 'response', id: msg.id, ok: false, error: errorText(err) }),
      );
      return;
  }
});
