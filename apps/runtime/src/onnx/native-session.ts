// Sessions made through ONNX Runtime's C API (ort-capi.ts) whose weights are graph inputs held on the device between
// runs: model offload keeps the session (its graph optimized, cuDNN's algorithms found) and moves only the weights,
// as diffusers moves a module. onnxruntime-node can neither feed a device-resident tensor nor take CUDA options.
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import koffi from 'koffi';
import onnxProto from 'onnx-proto';
import type { BuiltModel } from './built-model.ts';
import { type DeviceWeights, deviceWeights, type FedWeights } from './device-weights.ts';
import { envJsonObject, envSwitch } from './env-switch.ts';
import { type OrtCApi, requireOrtCApi } from './ort-capi.ts';
import { cpuInfo, ELEMENT, ELEMENT_NAME, readTensor, tensorOver } from './ort-values.ts';
import { type ConvertedFeed, convertFeed, cudaSharedArena, type Feed, probeModel, type Session } from './session.ts';
import { sharedArenaConfig } from './shared-arena.ts';

const { onnx } = onnxProto;
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
}

export interface NativeSession extends Session {
  readonly weights: DeviceWeights;
}

/** A session over `built` (resident initializers inlined) whose `hostWeights` are fed from device copies. */
export async function createNativeSession(built: BuiltModel, opts: NativeSessionOptions): Promise<NativeSession> {
  const api = requireOrtCApi(`${opts.label}: a session with device-resident weights`);
  const deviceId = opts.deviceId ?? 0;
  const shared = opts.device === 'cuda' && opts.sharedArena === true && (await cudaSharedArena(deviceId));
  const ptr = nativeSessionPointer(api, inlineExternalData(built), opts, shared);
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
    const weights = deviceWeights(api, ptr, built.hostWeights ?? [], opts, shrink);
    return s.session(weights, new Set((built.hostWeights ?? []).map((w) => w.name)));
  } catch (e) {
    s.release();
    throw e;
  }
}

const shrinkers = new Map<string, () => void>();

/** Gives the device's shared arena (shared-arena.ts, registered) its wholly free regions back: an empty run of a
 *  tiny session on that arena with ONNX Runtime's run option to shrink it after (there is no other call for it). */
export function shrinkSharedArena(device: 'cpu' | 'cuda', deviceId = 0): void {
  const key = `${device}:${deviceId}`;
  let shrink = shrinkers.get(key);
  if (!shrink) {
    const api = requireOrtCApi('shrinking the shared arena');
    const label = `shrinking the shared ${device} arena`;
    const probe = new Handles(api, nativeSessionPointer(api, probeModel(), { device, deviceId, label }, true), label);
    const out: unknown[] = [null];
    api.check(api.call('CreateRunOptions', 'void* F(_Out_ void** out)', out), label);
    const which = `${device === 'cuda' ? 'gpu' : 'cpu'}:${deviceId}`;
    api.check(
      api.call('AddRunConfigEntry', 'void* F(void* ro, const char* k, const char* v)', out[0], SHRINK_KEY, which),
      label,
    );
    const x = { dims: [1], data: new Float32Array(1) };
    shrink = () => void probe.run({ x }, undefined, out[0]);
    shrinkers.set(key, shrink);
  }
  shrink();
}

function nativeSessionPointer(api: OrtCApi, model: Uint8Array, opts: NativeSessionOptions, shared: boolean): unknown {
  const { call, check } = api;
  const what = `${opts.label}: ONNX Runtime could not create a ${opts.device} session`;
  const out: unknown[] = [null];
  check(call('CreateSessionOptions', 'void* CreateSessionOptions(_Out_ void** out)', out), what);
  const so = out[0];
  try {
    check(call('SetSessionGraphOptimizationLevel', 'void* F(void* o, int level)', so, ENABLE_ALL), what);
    check(call('SetSessionLogSeverityLevel', 'void* F(void* o, int level)', so, LOG_ERROR), what);
    // as session.ts: CUDA allocations as needed, not one pre-planned block per run
    if (opts.device === 'cuda') check(call('DisableMemPattern', 'void* F(void* o)', so), what);
    if (opts.threads !== undefined)
      check(call('SetIntraOpNumThreads', 'void* F(void* o, int n)', so, opts.threads), what);
    for (const [k, v] of Object.entries(shared ? sharedArenaConfig : {}))
      check(call('AddSessionConfigEntry', 'void* F(void* o, const char* k, const char* v)', so, k, v), what);
    if (opts.device === 'cuda') appendCuda(api, so, opts.deviceId ?? 0, what);
    const sessionOut: unknown[] = [null];
    check(
      call(
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
    call('ReleaseSessionOptions', 'void F(void* o)', so);
  }
}

function appendCuda(api: OrtCApi, so: unknown, deviceId: number, what: string): void {
  const { call, check } = api;
  const out: unknown[] = [null];
  check(call('CreateCUDAProviderOptions', 'void* F(_Out_ void** out)', out), what);
  try {
    // a bounded cuDNN workspace: these sessions serve model offload, a memory setting (row 5's peak did not move
    // with it either way: BENCHMARKS.md, sittings T and U)
    const options = { device_id: String(deviceId), cudnn_conv_use_max_workspace: '0', ...cudaOptionsFromEnv() };
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

/** SDFLOW_CUDA_OPTIONS: JSON of CUDA provider options for these sessions (GPU experiments: cudnn_conv_algo_search). */
function cudaOptionsFromEnv(): Record<string, string> {
  const options = envJsonObject('SDFLOW_CUDA_OPTIONS', 'CUDA provider options');
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, String(v)]));
}

/** The model with every external initializer's bytes moved into it (the C API's in-memory files need a later slot). */
export function inlineExternalData(built: BuiltModel): Uint8Array {
  if (built.externalData.length === 0) return built.model;
  const files = new Map(built.externalData.map((f) => [f.path, f.data]));
  const model = onnx.ModelProto.decode(built.model);
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const entry = (key: string) => t.externalData?.find((e) => e.key === key)?.value;
    const location = entry('location') ?? '';
    const file = files.get(location);
    if (!file) throw new Error(`initializer '${t.name}' names external data '${location}', which the model lacks`);
    const offset = Number(entry('offset') ?? 0);
    t.rawData = file.subarray(offset, offset + Number(entry('length') ?? file.byteLength - offset));
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
    t.externalData = [];
  }
  return onnx.ModelProto.encode(model).finish();
}

/** A session pointer with its input and output names, released once. */
class Handles {
  readonly inputNames: string[] = [];
  readonly outputNames: string[] = [];
  readonly inputTypes: Record<string, string> = {};
  private ptr: unknown;

  constructor(
    private readonly api: OrtCApi,
    ptr: unknown,
    private readonly label: string,
  ) {
    this.ptr = ptr;
    const { call, check } = api;
    const alloc: unknown[] = [null];
    check(call('GetAllocatorWithDefaultOptions', 'void* F(_Out_ void** out)', alloc), label);
    const names = (slot: 'SessionGetInputName' | 'SessionGetOutputName', count: number) =>
      Array.from({ length: count }, (_, i) => {
        const out: unknown[] = [null];
        check(call(slot, 'void* F(void* s, size_t i, void* a, _Out_ void** out)', ptr, i, alloc[0], out), label);
        const name = koffi.decode(out[0], 'char', -1) as string;
        check(call('AllocatorFree', 'void* F(void* a, void* p)', alloc[0], out[0]), label);
        return name;
      });
    const count = (slot: 'SessionGetInputCount' | 'SessionGetOutputCount') => {
      const out: number[] = [0];
      check(call(slot, 'void* F(void* s, _Out_ size_t* n)', ptr, out), label);
      return Number(out[0]);
    };
    const inputs = names('SessionGetInputName', count('SessionGetInputCount'));
    this.outputNames.push(...names('SessionGetOutputName', count('SessionGetOutputCount')));
    inputs.forEach((name, i) => {
      const info: unknown[] = [null];
      check(call('SessionGetInputTypeInfo', 'void* F(void* s, size_t i, _Out_ void** out)', ptr, i, info), label);
      const tensor: unknown[] = [null];
      check(call('CastTypeInfoToTensorInfo', 'void* F(void* t, _Out_ void** out)', info[0], tensor), label);
      if (tensor[0]) {
        const type: number[] = [0];
        check(call('GetTensorElementType', 'void* F(void* t, _Out_ int* out)', tensor[0], type), label);
        this.inputTypes[name] = ELEMENT_NAME.get(type[0] as number) ?? `onnx-type-${type[0]}`;
      }
      call('ReleaseTypeInfo', 'void F(void* t)', info[0]);
      this.inputNames.push(name);
    });
  }

  session(weights: FedWeights, weightNames: ReadonlySet<string>): NativeSession {
    const inputNames = this.inputNames.filter((n) => !weightNames.has(n));
    const inputTypes = Object.fromEntries(Object.entries(this.inputTypes).filter(([n]) => !weightNames.has(n)));
    return {
      inputNames,
      outputNames: this.outputNames,
      inputTypes,
      weights,
      run: async (feeds) => this.run(feeds, weights),
      release: async () => {
        weights.close();
        this.release();
      },
    };
  }

  run(feeds: Record<string, Feed>, weights?: FedWeights, runOptions: unknown = null): Record<string, Tensor> {
    const { api, label } = this;
    if (!this.ptr) throw new Error(`${label}: the session was released`);
    const converted: ConvertedFeed[] = [];
    const values: unknown[] = [];
    const outputs = new BigUint64Array(this.outputNames.length);
    try {
      for (const [name, f] of Object.entries(feeds)) {
        const c = convertFeed(f, this.inputTypes[name]);
        converted.push(c);
        values.push(tensorOver(api, cpuInfo(api), c.data, c.dims, ELEMENT[c.type]));
      }
      const names = [...Object.keys(feeds), ...(weights?.names ?? [])];
      const inputs = [...values, ...(weights && weights.names.length > 0 ? weights.values() : [])];
      api.check(
        api.call(
          'Run',
          'void* F(void* s, void* ro, const char** in, void** values, size_t n, const char** out, size_t m, void* outputs)',
          this.ptr,
          runOptions,
          names,
          inputs,
          names.length,
          this.outputNames,
          this.outputNames.length,
          outputs,
        ),
        `${label}: inference failed`,
      );
      const result: Record<string, Tensor> = {};
      this.outputNames.forEach((name, i) => {
        result[name] = readTensor(api, koffi.decode(outputs, i * 8, 'void*'), `${label}: output '${name}'`);
      });
      return result;
    } finally {
      for (const v of values) api.call('ReleaseValue', 'void F(void* v)', v);
      outputs.forEach((_, i) => {
        const v = koffi.decode(outputs, i * 8, 'void*');
        if (v) api.call('ReleaseValue', 'void F(void* v)', v);
      });
      converted.length = 0; // the feeds' arrays stay referenced until ORT is done with them
    }
  }

  release(): void {
    if (!this.ptr) return;
    this.api.call('ReleaseSession', 'void F(void* s)', this.ptr);
    this.ptr = undefined;
  }
}
