// The only module importing onnxruntime-node: sessions from BuiltModel bytes + in-memory external data.

import type { Tensor } from '@sdflow/nodes/tensor.ts';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { BuiltModel } from './built-model.ts';
import { envJsonObject, envSwitch } from './env-switch.ts';
import { f16ToF32, f32ToF16 } from './float16.ts';
import { outputTensor } from './output-tensor.ts';
import { registerSharedArena, sharedArenaConfig } from './shared-arena.ts';

export type Device = 'cpu' | 'cuda' | 'webgpu';

/** A feed: a plain float32 Tensor, or typed data with its ONNX dtype. */
export type Feed =
  | Tensor
  | { dims: readonly number[]; data: Float32Array; dtype: 'float32' }
  | { dims: readonly number[]; data: Uint16Array; dtype: 'float16' }
  | { dims: readonly number[]; data: BigInt64Array; dtype: 'int64' }
  | { dims: readonly number[]; data: Int32Array; dtype: 'int32' };

export interface SessionOptions {
  device: Device;
  /** CUDA / WebGPU device index (default 0). */
  deviceId?: number;
  /** CPU threads for the intra-op pool (ORT's default when absent). */
  threads?: number;
  /** For errors: which model this is. */
  label?: string;
  /** ONNX Runtime's per-op profiler: JSON written to a file starting with this prefix when the session is released. */
  profilePrefix?: string;
  /** Session config entries ("session.use_device_allocator_for_initializers": "1", ...), ORT's `extra` map. */
  config?: Readonly<Record<string, string>>;
  /** Where ONNX Runtime writes the graph as its optimizers left it (what the kernels run), when set. */
  optimizedModelPath?: string;
  /** CUDA: allocate from the one arena this device's sharing sessions use (shared-arena.ts), where it can be had */
  sharedArena?: boolean;
}

export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** ONNX element type of each tensor input ('float32', 'float16', 'int64', 'int32', ...). */
  readonly inputTypes: Readonly<Record<string, string>>;
  /** Float outputs come back as float32 (float16 converted); int outputs as float32 numbers. */
  run(feeds: Record<string, Feed>): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

/** An ONNX file on disk; ORT reads its external data files from beside it (memory-mapped where it can). */
export interface OnnxPath {
  readonly modelPath: string;
}

export async function createSession(built: BuiltModel | OnnxPath, opts: SessionOptions): Promise<Session> {
  const label = opts.label ?? ('modelPath' in built ? built.modelPath : 'model');
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: executionProviders(opts),
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3, // errors only: ORT's warnings would land on the console of tests and the CLI
  };
  // CUDA: allocations as needed instead of one pre-planned block per run: same speed, 16 GiB less peak in the fp32
  // 4-image VAE decode and 2-4 GiB less elsewhere on an H100 (BENCHMARKS.md, "memory pattern")
  if (opts.device === 'cuda') options.enableMemPattern = false;
  if ('model' in built) options.externalData = built.externalData.map((f) => ({ path: f.path, data: f.data }));
  if (opts.threads !== undefined) options.intraOpNumThreads = opts.threads;
  const shared = opts.sharedArena && opts.device === 'cuda' && (await cudaSharedArena(opts.deviceId ?? 0));
  const config = shared ? { ...sharedArenaConfig, ...opts.config } : opts.config;
  if (config) options.extra = nestConfig(config);
  if (opts.optimizedModelPath) options.optimizedModelFilePath = opts.optimizedModelPath;
  if (opts.profilePrefix) {
    options.enableProfiling = true;
    options.profileFilePrefix = opts.profilePrefix;
  }
  Object.assign(options, envOptions());
  let s: ort.InferenceSession;
  try {
    s =
      'model' in built
        ? await ort.InferenceSession.create(built.model, options)
        : await ort.InferenceSession.create(built.modelPath, options);
  } catch (e) {
    throw new Error(`${label}: ONNX Runtime could not create a ${opts.device} session: ${(e as Error).message}`);
  }
  const hostWeights = 'model' in built ? (built.hostWeights ?? []) : [];
  // wrapped once: onnxruntime-node reads the host arrays in place on every run
  const weightFeeds = Object.fromEntries(
    hostWeights.map((w) => [w.name, new ort.Tensor(w.dtype, w.data, [...w.dims])]),
  );
  const streamed = new Set(hostWeights.map((w) => w.name));
  const inputTypes = new Map<string, string>();
  for (const m of s.inputMetadata) if (m.isTensor && !streamed.has(m.name)) inputTypes.set(m.name, m.type);
  return {
    inputNames: s.inputNames.filter((n) => !streamed.has(n)),
    outputNames: s.outputNames,
    inputTypes: Object.fromEntries(inputTypes),
    async run(feeds) {
      const ortFeeds: Record<string, ort.Tensor> = { ...weightFeeds };
      for (const [name, f] of Object.entries(feeds)) ortFeeds[name] = toOrt(f, inputTypes.get(name));
      let out: ort.InferenceSession.OnnxValueMapType;
      try {
        out = await s.run(ortFeeds);
      } catch (e) {
        throw new Error(`${label}: inference failed: ${(e as Error).message}`);
      }
      const result: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(out)) {
        result[name] = fromOrt(t as ort.Tensor);
        (t as ort.Tensor).dispose();
      }
      return result;
    },
    release: () => s.release(),
  };
}

const cudaArenas = new Map<number, Promise<boolean>>();

/** The device's shared arena, registered on first use once a CUDA session proves the provider loads (registering
 *  without it aborts the process inside ONNX Runtime). For GPU comparisons, SDFLOW_SHARED_ARENA=0 turns sharing
 *  off and =same grows a BFC arena by a region per request (=pow2, doubling regions, is the default). */
export function cudaSharedArena(deviceId: number): Promise<boolean> {
  const sharing = envSwitch('SDFLOW_SHARED_ARENA', ['0', 'pow2', 'same']) ?? 'pow2';
  if (sharing === '0') return Promise.resolve(false);
  let r = cudaArenas.get(deviceId);
  if (!r) {
    r = (async () => {
      try {
        const probe = await ort.InferenceSession.create(probeModel(), {
          executionProviders: [{ name: 'cuda', deviceId }],
          logSeverityLevel: 3,
        });
        await probe.release();
      } catch {
        return false; // the session that asked reports why CUDA is unavailable
      }
      const ok = registerSharedArena('cuda', deviceId, sharing);
      if (ok !== true) process.stderr.write(`sdflow: sessions keep arenas of their own: ${ok}\n`);
      return ok === true;
    })();
    cudaArenas.set(deviceId, r);
  }
  return r;
}

/** y = Identity(x): the smallest model a provider can take. */
export function probeModel(): Uint8Array {
  const { onnx } = onnxProto;
  const float1 = { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } } };
  const graph = {
    name: 'probe',
    node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
    input: [{ name: 'x', type: float1 }],
    output: [{ name: 'y', type: float1 }],
  };
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph }).finish();
}

/** SDFLOW_ORT_OPTIONS: JSON merged into every session's options, for GPU experiments (enableMemPattern, ...). */
function envOptions(): Partial<ort.InferenceSession.SessionOptions> {
  return envJsonObject('SDFLOW_ORT_OPTIONS', 'ONNX Runtime session options');
}

/** "a.b.c": v -> { a: { b: { c: v } } }, the shape onnxruntime-node's `extra` option takes. */
function nestConfig(flat: Readonly<Record<string, string>>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) {
      node[p] ??= {};
      node = node[p] as Record<string, unknown>;
    }
    node[parts[parts.length - 1] as string] = value;
  }
  return root;
}

function executionProviders(opts: SessionOptions): ort.InferenceSession.ExecutionProviderConfig[] {
  if (opts.device === 'cuda') return [{ name: 'cuda', deviceId: opts.deviceId ?? 0 }];
  if (opts.device === 'webgpu') return ['webgpu'];
  return ['cpu'];
}

/** A feed in the element type its input takes. */
export type ConvertedFeed =
  | { type: 'float32'; dims: number[]; data: Float32Array }
  | { type: 'float16'; dims: number[]; data: Uint16Array }
  | { type: 'int64'; dims: number[]; data: BigInt64Array }
  | { type: 'int32'; dims: number[]; data: Int32Array };

/** Converts a feed to the input's element type, so callers can feed float32 / int64 whatever the graph wants
 *  (float16 graphs; exports such as Optimum's with int32 input_ids or int64 timesteps). */
export function convertFeed(f: Feed, want: string | undefined): ConvertedFeed {
  const dims = [...f.dims];
  const have = 'dtype' in f ? f.dtype : 'float32';
  const type = want === 'float32' || want === 'float16' || want === 'int64' || want === 'int32' ? want : have;
  if (type === have) return { type, dims, data: f.data } as ConvertedFeed;
  const asNumbers = (): ArrayLike<number> =>
    have === 'float16'
      ? f16ToF32(f.data as Uint16Array)
      : have === 'int64'
        ? Array.from(f.data as BigInt64Array, Number)
        : (f.data as Float32Array | Int32Array);
  if (type === 'float16') return { type, dims, data: f32ToF16(Float32Array.from(asNumbers())) };
  if (type === 'float32') return { type, dims, data: Float32Array.from(asNumbers()) };
  if (type === 'int32') return { type, dims, data: Int32Array.from(asNumbers(), Math.round) };
  return { type, dims, data: BigInt64Array.from(Array.from(asNumbers()), (x) => BigInt(Math.round(x))) };
}

function toOrt(f: Feed, want: string | undefined): ort.Tensor {
  const c = convertFeed(f, want);
  return new ort.Tensor(c.type, c.data, c.dims);
}

function fromOrt(t: ort.Tensor): Tensor {
  return outputTensor(t.type, [...t.dims], t.data as ArrayBufferView, `output type ${t.type}`);
}
