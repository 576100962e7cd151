// Sessions made through ONNX Runtime's C API (ort-capi.ts), for what onnxruntime-node can't do: feed tensors that are
// already on the device and write outputs into them (the denoising loop on the device, backend/device-loop.ts), take
// CUDA options, and take weights as graph inputs held on the device between runs (model offload keeps the session,
// its graph optimized and cuDNN's algorithms found, and moves only the weights, as diffusers moves a module).
import koffi from 'koffi';
import type { BuiltModel, ExternalDataFile } from './built-model.ts';
import { type DeviceWeights, deviceWeights, type FedWeights } from './device-weights.ts';
import { envJsonObject, envSwitch } from './env-switch.ts';
import { type BoundInput, type DeviceTensor, Handles } from './native-handles.ts';
import { type OrtCApi, requireOrtCApi } from './ort-capi.ts';
import { cpuInfo, dataPointer, ELEMENT, tensorOver } from './ort-values.ts';
import { cudaSharedArena, type OnnxPath, probeModel, type Session } from './session.ts';
import { bumpArenaEpoch, sharedArenaConfig } from './shared-arena.ts';

const ENABLE_ALL = 99;
const SHRINK_KEY = 'memory.enable_memory_arena_shrinkage';
const LOG_ERROR = 3;

export interface NativeSessionOptions {
  device: 'cpu' | 'cuda';
  deviceId?: number;
  threads?: number;
  /** For errors: which model this is. */
  label: string;
  /** CUDA: allocate activations and weights from the device's shared arena, where it can be had. */
  sharedArena?: boolean;
  /** CUDA provider options over ONNX Runtime's defaults (SDFLOW_CUDA_OPTIONS goes over these) */
  cudaOptions?: Readonly<Record<string, string>>;
  /** CUDA: runs given a graph id are captured once as a CUDA graph and replayed (ONNX Runtime's enable_cuda_graph);
   *  where ONNX Runtime refuses it for this model, the session is made without */
  cudaGraphs?: boolean;
}

export interface NativeSession extends Session {
  readonly weights: DeviceWeights;
  /** Whether runs given a graph id are captured and replayed as CUDA graphs. */
  readonly graphs: boolean;
  /**
   * A run fed host arrays or device tensors, its outputs written into the given device tensors. With `graph` (on a
   * session with graphs), ONNX Runtime runs the first calls of each id, captures the next, and from then on only
   * replays it: the caller keeps every feed and output at the address it had then, and -1 runs without a graph.
   */
  runInto(feeds: Record<string, BoundInput>, outputs: Record<string, DeviceTensor>, graph?: number): void;
}

/** A session over `built` (or an ONNX file) whose `hostWeights` (if any) are fed from device copies. */
export async function createNativeSession(
  built: BuiltModel | OnnxPath,
  opts: NativeSessionOptions,
): Promise<NativeSession> {
  const api = requireOrtCApi(`${opts.label}: a session with device-resident weights`);
  const deviceId = opts.deviceId ?? 0;
  // on CUDA the shared arena's probe goes first even for a session off it: it proves the provider loads, and it is
  // onnxruntime-node's first session, which sets up the logging ONNX Runtime's CUDA sessions need
  const arena = opts.device === 'cuda' && (await cudaSharedArena(deviceId));
  const shared = arena && opts.sharedArena === true;
  const make = (o: NativeSessionOptions) =>
    'model' in built
      ? nativeSessionPointer(api, built.model, o, shared, built.externalData)
      : nativeSessionPointer(api, built.modelPath, o, shared);
  let graphs = opts.device === 'cuda' && opts.cudaGraphs === true;
  let ptr: unknown;
  try {
    ptr = make({ ...opts, cudaGraphs: graphs });
  } catch (e) {
    // ONNX Runtime takes graphs only where every compute node is on CUDA and no copy sits between nodes
    if (!graphs || !/CUDA Graph/.test((e as Error).message)) throw e;
    graphs = false;
    ptr = make({ ...opts, cudaGraphs: false });
  }
  const hostWeights = 'model' in built ? (built.hostWeights ?? []) : [];
  let s: Handles;
  try {
    s = new Handles(api, ptr, opts.label);
  } catch (e) {
    api.call('ReleaseSession', 'void F(void* s)', ptr);
    throw e;
  }
  try {
    // a component's freed weights and activations go back to the device, not kept for the next one's larger tensors
    const shrink =
      shared && envSwitch('SDFLOW_SWAP_SHRINK', ['0', '1']) !== '0'
        ? () => shrinkSharedArena('cuda', deviceId)
        : undefined;
    const weights = deviceWeights(api, ptr, hostWeights, opts, shrink);
    // the CPU provider reads in-memory data files in place: they live as long as the session
    const keep = opts.device === 'cpu' && 'model' in built ? built.externalData : [];
    return nativeSession(api, s, weights, new Set(hostWeights.map((w) => w.name)), keep, graphs);
  } catch (e) {
    s.release();
    throw e;
  }
}

function nativeSession(
  api: OrtCApi,
  s: Handles,
  weights: FedWeights,
  weightNames: ReadonlySet<string>,
  keep: readonly ExternalDataFile[],
  graphs: boolean,
): NativeSession {
  // run options per graph id, made once: ONNX Runtime reads the id from them on every run
  const graphOptions = new Map<number, unknown>();
  // without an id a run would be captured as graph 0: runs not given one run plain (-1)
  const runOptions = (graph = -1) => {
    if (!graphs) return null;
    let ro = graphOptions.get(graph);
    if (!ro) {
      // ONNX Runtime's run config "gpu_graph_id" names the graph; -1 runs without one
      ro = runOptionsWith(api, 'gpu_graph_id', `${graph}`, s.label);
      graphOptions.set(graph, ro);
    }
    return ro;
  };
  return {
    inputNames: s.inputNames.filter((n) => !weightNames.has(n)),
    outputNames: s.outputNames,
    inputTypes: Object.fromEntries(Object.entries(s.inputTypes).filter(([n]) => !weightNames.has(n))),
    weights,
    graphs,
    run: async (feeds) => s.run(feeds, weights, runOptions()),
    runInto: (feeds, outputs, graph) => s.runInto(feeds, outputs, weights, runOptions(graph)),
    release: async () => {
      weights.close();
      s.release();
      for (const ro of graphOptions.values()) api.call('ReleaseRunOptions', 'void F(void* ro)', ro);
      graphOptions.clear();
      void keep; // referenced here, so held as long as the session is
    },
  };
}

/** Run options with one config entry (ONNX Runtime reads them on every run that is given them). */
function runOptionsWith(api: OrtCApi, key: string, value: string, label: string): unknown {
  const out: unknown[] = [null];
  api.check(api.call('CreateRunOptions', 'void* F(_Out_ void** out)', out), label);
  const set = api.call('AddRunConfigEntry', 'void* F(void* ro, const char* k, const char* v)', out[0], key, value);
  try {
    api.check(set, label);
  } catch (e) {
    api.call('ReleaseRunOptions', 'void F(void* ro)', out[0]);
    throw e;
  }
  return out[0];
}

const shrinkers = new Map<string, () => void>();

/** Gives the device's shared arena (shared-arena.ts, registered) its wholly free regions back: an empty run of a
 *  tiny session on that arena with ONNX Runtime's run option to shrink it after (there is no other call for it). */
export function shrinkSharedArena(device: 'cpu' | 'cuda', deviceId = 0): void {
  // regions go back to the device: a CUDA graph captured over them must not be replayed
  bumpArenaEpoch(device, deviceId);
  const key = `${device}:${deviceId}`;
  let shrink = shrinkers.get(key);
  if (!shrink) {
    const api = requireOrtCApi('shrinking the shared arena');
    const label = `shrinking the shared ${device} arena`;
    const probe = new Handles(api, nativeSessionPointer(api, probeModel(), { device, deviceId, label }, true), label);
    const which = `${device === 'cuda' ? 'gpu' : 'cpu'}:${deviceId}`;
    const options = runOptionsWith(api, SHRINK_KEY, which, label);
    const x = { dims: [1], data: new Float32Array(1) };
    shrink = () => void probe.run({ x }, undefined, options);
    shrinkers.set(key, shrink);
  }
  shrink();
}

/** A session from model bytes (with in-memory external data files) or from an ONNX file (its data beside it). */
function nativeSessionPointer(
  api: OrtCApi,
  model: Uint8Array | string,
  opts: NativeSessionOptions,
  shared: boolean,
  external: readonly ExternalDataFile[] = [],
): unknown {
  const { call, check } = api;
  const what = `${opts.label}: ONNX Runtime could not create a ${opts.device} session`;
  const out: unknown[] = [null];
  check(call('CreateSessionOptions', 'void* CreateSessionOptions(_Out_ void** out)', out), what);
  const so = out[0];
  const holders: unknown[] = [];
  try {
    if (external.length > 0) {
      // the in-memory data files by address: an OrtValue over each gives its data pointer
      for (const f of external) holders.push(tensorOver(api, cpuInfo(api), f.data, [f.data.byteLength], ELEMENT.uint8));
      const pointers = BigUint64Array.from(holders, (h) => koffi.address(dataPointer(api, h)) as bigint);
      const lengths = BigUint64Array.from(external, (f) => BigInt(f.data.byteLength));
      check(
        call(
          'AddExternalInitializersFromFilesInMemory',
          'void* F(void* o, const char** names, void* buffers, void* lengths, size_t n)',
          so,
          external.map((f) => f.path),
          pointers,
          lengths,
          external.length,
        ),
        what,
      );
    }
    check(call('SetSessionGraphOptimizationLevel', 'void* F(void* o, int level)', so, ENABLE_ALL), what);
    check(call('SetSessionLogSeverityLevel', 'void* F(void* o, int level)', so, LOG_ERROR), what);
    // as session.ts: CUDA allocations as needed, not one pre-planned block per run
    if (opts.device === 'cuda') check(call('DisableMemPattern', 'void* F(void* o)', so), what);
    if (opts.threads !== undefined)
      check(call('SetIntraOpNumThreads', 'void* F(void* o, int n)', so, opts.threads), what);
    for (const [k, v] of Object.entries(shared ? sharedArenaConfig : {}))
      check(call('AddSessionConfigEntry', 'void* F(void* o, const char* k, const char* v)', so, k, v), what);
    if (opts.device === 'cuda') {
      const graphs: Record<string, string> = opts.cudaGraphs ? { enable_cuda_graph: '1' } : {};
      appendCuda(api, so, opts.deviceId ?? 0, { ...opts.cudaOptions, ...graphs }, opts.label, what);
    }
    const sessionOut: unknown[] = [null];
    check(
      typeof model === 'string'
        ? call(
            'CreateSession',
            'void* F(void* env, const char* path, void* o, _Out_ void** out)',
            api.env(),
            model,
            so,
            sessionOut,
          )
        : call(
            'CreateSessionFromArray',
            'void* F(void* env, const void* data, size_t n, void* o, _Out_ void** out)',
            api.env(),
            model,
            model.byteLength,
            so,
            sessionOut,
          ),
      what,
    );
    return sessionOut[0];
  } finally {
    for (const h of holders) call('ReleaseValue', 'void F(void* v)', h);
    call('ReleaseSessionOptions', 'void F(void* o)', so);
  }
}

function appendCuda(
  api: OrtCApi,
  so: unknown,
  deviceId: number,
  given: Readonly<Record<string, string>>,
  label: string,
  what: string,
): void {
  const { call, check } = api;
  const out: unknown[] = [null];
  check(call('CreateCUDAProviderOptions', 'void* F(_Out_ void** out)', out), what);
  try {
    const options = { device_id: String(deviceId), ...given, ...cudaOptionsFromEnv(label) };
    const keys = Object.keys(options);
    check(
      call(
        'UpdateCUDAProviderOptions',
        'void* F(void* p, const char** k, const char** v, size_t n)',
        out[0],
        keys,
        Object.values(options),
        keys.length,
      ),
      what,
    );
    check(call('SessionOptionsAppendExecutionProvider_CUDA_V2', 'void* F(void* o, void* p)', so, out[0]), what);
  } finally {
    call('ReleaseCUDAProviderOptions', 'void F(void* p)', out[0]);
  }
}

/** SDFLOW_CUDA_OPTIONS: JSON of CUDA provider options for these sessions (GPU experiments: cudnn_conv_algo_search);
 *  an object under a session's label (`{"vae_decoder": {...}}`) applies to that session only. */
function cudaOptionsFromEnv(label: string): Record<string, string> {
  const options = envJsonObject('SDFLOW_CUDA_OPTIONS', 'CUDA provider options');
  const scoped = options[label];
  const flat = Object.entries(options).filter(([, v]) => typeof v !== 'object');
  const mine = scoped && typeof scoped === 'object' ? Object.entries(scoped) : [];
  return Object.fromEntries([...flat, ...mine].map(([k, v]) => [k, String(v)]));
}
