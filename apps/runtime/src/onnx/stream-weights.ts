// Sequential offload without re-creating sessions: the graph takes its weights as inputs, fed from host memory on
// every run. On CUDA each weight input goes through an explicit MemcpyFromHost node listed before all other nodes:
// ONNX Runtime's default order (a reverse DFS from the outputs that visits lower node indices last) then copies each
// weight just before its first consumer and frees it after its last, so the GPU holds activations and a few layers'
// weights at a time, not the model.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import { readFully } from '../models/read-fully.ts';
import type { BuiltModel, ExternalDataFile, HostWeight } from './built-model.ts';
import { envSwitch } from './env-switch.ts';
import type { Target } from './graph-builder.ts';
import type { OnnxPath } from './session.ts';

const { onnx } = onnxProto;
type ITensor = onnxProto.onnx.ITensorProto;
type INode = onnxProto.onnx.INodeProto;

// weights these ops read stay initializers: ONNX Runtime's CUDA kernels for them take only constant weights
const CONSTANT_WEIGHT_OPS = new Set(['NhwcConv']);
const FLOAT16 = 10;
const FLOAT32 = 1;
/** The smallest weights, together at most this share of the bytes, stay resident: most of the tensors (biases,
 *  norms; each streamed one costs a copy and a graph node) and almost none of the bytes. */
const RESIDENT_SHARE = 0.01;
const RESIDENT_FILE = 'resident.onnx_data';
const ALIGN = 64;
const SLAB_BYTES = 256 * 1024 * 1024;

/** Where an external initializer's bytes are. */
interface ExternalRef {
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

/** Reads an initializer's bytes: a view of an in-memory chunk, or read from the file beside the model. */
interface ByteSource {
  /** `host`: the bytes stay in host memory as a streamed weight (else they are copied into the resident file) */
  read(ref: ExternalRef, tensor: string, host: boolean): Uint8Array;
  close(): void;
}

export interface StreamOptions {
  /** CUDA: a MemcpyFromHost per weight (default; SDFLOW_STREAM_COPIES=0 turns it off). False for weights that are
   *  fed already on the device (native-session.ts) */
  readonly copies?: boolean;
}

/** The model with its external-data weights turned into host-fed inputs (constants and the smallest weights stay). */
export function streamWeights(from: BuiltModel | OnnxPath, target: Target, opts: StreamOptions = {}): BuiltModel {
  const modelBytes = 'model' in from ? from.model : readFileSync(from.modelPath);
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new Error('streamWeights: the model has no graph');
  const external = (graph.initializer ?? []).filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
  if (external.length === 0) return 'model' in from ? from : { model: modelBytes, externalData: [] };
  const source = 'model' in from ? memorySource(from.externalData) : fileSource(from.modelPath);
  try {
    return stream(model, external, source, target, opts);
  } finally {
    source.close();
  }
}

function stream(
  model: onnxProto.onnx.ModelProto,
  external: readonly ITensor[],
  source: ByteSource,
  target: Target,
  opts: StreamOptions,
): BuiltModel {
  const graph = model.graph as onnxProto.onnx.IGraphProto;
  const resident = new Set(
    (graph.node ?? []).filter((n) => CONSTANT_WEIGHT_OPS.has(n.opType ?? '')).flatMap((n) => n.input ?? []),
  );
  for (const t of external) if (t.dataType !== FLOAT16 && t.dataType !== FLOAT32) resident.add(t.name ?? '');
  for (const name of smallest(external, RESIDENT_SHARE)) resident.add(name);
  const hostWeights: HostWeight[] = [];
  graph.input ??= [];
  const inputs = graph.input;
  const kept: { tensor: ITensor; bytes: Uint8Array }[] = [];
  const copies: INode[] = [];
  // SDFLOW_STREAM_COPIES=0 (GPU experiments): plain inputs, which ONNX Runtime copies all at once before a run
  const copyNodes = target === 'cuda' && (opts.copies ?? envSwitch('SDFLOW_STREAM_COPIES', ['0', '1']) !== '0');
  const renamed = new Map<string, string>();
  for (const t of external) {
    const name = t.name ?? '';
    const bytes = source.read(externalRef(t), name, !resident.has(name));
    if (resident.has(name)) {
      kept.push({ tensor: t, bytes });
      continue;
    }
    const dims = (t.dims ?? []).map(Number);
    hostWeights.push(hostWeight(name, t.dataType ?? 0, dims, bytes));
    inputs.push({
      name,
      type: { tensorType: { elemType: t.dataType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
    });
    if (copyNodes) {
      const dev = `${name}::gpu`;
      copies.push({ opType: 'MemcpyFromHost', input: [name], output: [dev], name: `copy_${name}` });
      renamed.set(name, dev);
    }
  }
  for (const node of graph.node ?? []) node.input = (node.input ?? []).map((i) => renamed.get(i) ?? i);
  graph.node = [...copies, ...(graph.node ?? [])];
  const externalData = packResident(kept);
  const streamed = new Set(external.filter((t) => !resident.has(t.name ?? '')));
  graph.initializer = (graph.initializer ?? []).filter((t) => !streamed.has(t));
  return { model: onnx.ModelProto.encode(model).finish(), externalData, hostWeights };
}

/** The resident weights' bytes in one new external data file, their entries pointed at it. */
function packResident(kept: readonly { tensor: ITensor; bytes: Uint8Array }[]): ExternalDataFile[] {
  if (kept.length === 0) return [];
  const at = (i: number) => Math.ceil(i / ALIGN) * ALIGN;
  const size = kept.reduce((end, k) => at(end) + k.bytes.byteLength, 0);
  const data = new Uint8Array(size);
  let end = 0;
  for (const { tensor, bytes } of kept) {
    const offset = at(end);
    data.set(bytes, offset);
    end = offset + bytes.byteLength;
    tensor.externalData = [
      { key: 'location', value: RESIDENT_FILE },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(bytes.byteLength) },
    ];
  }
  return [{ path: RESIDENT_FILE, data }];
}

function externalRef(t: ITensor): ExternalRef {
  const entry = (key: string) => t.externalData?.find((e) => e.key === key)?.value ?? '';
  return { location: entry('location'), offset: Number(entry('offset') || 0), length: Number(entry('length')) };
}

/** Names of the smallest external weights whose bytes add up to at most `share` of all of them. */
function smallest(external: readonly ITensor[], share: number): string[] {
  const sized = external
    .map((t) => ({ name: t.name ?? '', bytes: externalRef(t).length }))
    .sort((a, b) => a.bytes - b.bytes);
  let budget = share * sized.reduce((a, t) => a + t.bytes, 0);
  const out: string[] = [];
  for (const t of sized) {
    if (t.bytes > budget) break;
    budget -= t.bytes;
    out.push(t.name);
  }
  return out;
}

function memorySource(files: readonly ExternalDataFile[]): ByteSource {
  const chunks = new Map(files.map((f) => [f.path, f.data]));
  return {
    read(ref, tensor) {
      const chunk = chunks.get(ref.location);
      if (!chunk) throw new Error(`streamWeights: weight '${tensor}' names external data '${ref.location}', not given`);
      return chunk.subarray(ref.offset, ref.offset + ref.length);
    },
    close() {},
  };
}

/** Each tensor read on its own from the files beside the model (an export's single data file may pass 4 GiB, more
 *  than one typed array holds), into a few large blocks: these get page-locked whole (onnx/host-pinning.ts), and
 *  a buffer per weight could share pages with its neighbours. */
function fileSource(modelPath: string): ByteSource {
  const fds = new Map<string, number>();
  const slabs = new Slabs(SLAB_BYTES);
  return {
    read(ref, tensor, host) {
      const path = join(dirname(modelPath), ref.location);
      let fd = fds.get(path);
      if (fd === undefined) {
        try {
          fd = openSync(path, 'r');
        } catch (e) {
          throw new Error(`${path}: cannot open the external data of weight '${tensor}' (${(e as Error).message})`);
        }
        fds.set(path, fd);
      }
      const out = host ? slabs.take(ref.length) : new Uint8Array(ref.length);
      if (readFully(fd, out, ref.offset) < ref.length)
        throw new Error(`${path}: ends before weight '${tensor}' (bytes ${ref.offset}+${ref.length})`);
      return out;
    },
    close() {
      for (const fd of fds.values()) closeSync(fd);
    },
  };
}

/** 64-byte-aligned pieces of blocks of `size` bytes (a larger request gets a block of its own). */
export class Slabs {
  private block = new Uint8Array(0);
  private used = 0;

  constructor(private readonly size: number) {}

  take(bytes: number): Uint8Array {
    const at = Math.ceil(this.used / ALIGN) * ALIGN;
    if (at + bytes > this.block.length) {
      if (bytes > this.size) return new Uint8Array(bytes);
      this.block = new Uint8Array(this.size);
      this.used = 0;
      return this.take(bytes);
    }
    this.used = at + bytes;
    return this.block.subarray(at, at + bytes);
  }
}

function hostWeight(name: string, dataType: number, dims: number[], bytes: Uint8Array): HostWeight {
  if (dataType === FLOAT16) return { name, dims, dtype: 'float16', data: view(bytes, 2, Uint16Array) };
  if (dataType === FLOAT32) return { name, dims, dtype: 'float32', data: view(bytes, 4, Float32Array) };
  throw new Error(`streamWeights: weight '${name}' has element type ${dataType}; only float16/float32 are streamed`);
}

/** A typed view of the bytes (a copy only where they are not aligned to the element size). */
function view<A extends Uint16Array | Float32Array>(
  b: Uint8Array,
  size: number,
  Ctor: { new (buf: ArrayBufferLike, offset: number, length: number): A; new (length: number): A },
): A {
  if (b.byteOffset % size === 0) return new Ctor(b.buffer, b.byteOffset, b.byteLength / size);
  const a = new Ctor(b.byteLength / size);
  new Uint8Array(a.buffer).set(b);
  return a;
}
