// Sequential offload without re-creating sessions: the graph takes its weights as inputs, fed from host memory on
// every run. On CUDA each weight input goes through an explicit MemcpyFromHost node listed before all other nodes:
// ONNX Runtime's default order (a reverse DFS from the outputs that visits lower node indices last) then copies each
// weight just before its first consumer and frees it after its last, so the GPU holds activations and a few layers'
// weights at a time, not the model.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { BuiltModel, HostWeight } from './built-model.ts';
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

/** The model with its external-data weights turned into host-fed inputs (constants and the smallest weights stay). */
export function streamWeights(from: BuiltModel | OnnxPath, target: Target): BuiltModel {
  const built = 'model' in from ? from : readWithExternalData(from.modelPath);
  const model = onnx.ModelProto.decode(built.model);
  const graph = model.graph;
  if (!graph) throw new Error('streamWeights: the model has no graph');
  const chunks = new Map(built.externalData.map((f) => [f.path, f.data]));
  const kept: ITensor[] = [];
  const hostWeights: HostWeight[] = [...(built.hostWeights ?? [])];
  const copies: INode[] = [];
  const renamed = new Map<string, string>();
  const pinned = new Set(
    (graph.node ?? []).filter((n) => CONSTANT_WEIGHT_OPS.has(n.opType ?? '')).flatMap((n) => n.input ?? []),
  );
  for (const name of smallest(graph.initializer ?? [], RESIDENT_SHARE)) pinned.add(name);
  for (const t of graph.initializer ?? []) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL || pinned.has(t.name ?? '')) {
      kept.push(t);
      continue;
    }
    const name = t.name ?? '';
    const dims = (t.dims ?? []).map(Number);
    hostWeights.push(hostWeight(name, t, dims, chunks));
    graph.input = [
      ...(graph.input ?? []),
      { name, type: { tensorType: { elemType: t.dataType, shape: shape(dims) } } },
    ];
    // SDFLOW_STREAM_COPIES=0 (GPU experiments): plain inputs, which ONNX Runtime copies all at once before a run
    if (target === 'cuda' && process.env.SDFLOW_STREAM_COPIES !== '0') {
      const dev = `${name}::gpu`;
      copies.push({ opType: 'MemcpyFromHost', input: [name], output: [dev], name: `copy_${name}` });
      renamed.set(name, dev);
    }
  }
  if (hostWeights.length === (built.hostWeights?.length ?? 0)) return built;
  for (const node of graph.node ?? []) node.input = (node.input ?? []).map((i) => renamed.get(i) ?? i);
  graph.node = [...copies, ...(graph.node ?? [])];
  graph.initializer = kept;
  // pinned weights keep their external data (the chunks stay whole: ORT reads the offsets it is given)
  const externalData = built.externalData.filter((f) =>
    kept.some((t) => t.externalData?.some((e) => e.key === 'location' && e.value === f.path)),
  );
  return { model: onnx.ModelProto.encode(model).finish(), externalData, hostWeights };
}

/** Names of the smallest external weights whose bytes add up to at most `share` of all external weight bytes. */
function smallest(initializers: readonly ITensor[], share: number): string[] {
  const sized = initializers
    .filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
    .map((t) => ({ name: t.name ?? '', bytes: Number(t.externalData?.find((e) => e.key === 'length')?.value ?? 0) }))
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

/** An ONNX file and every external data file it names (read whole: streamed weights live in host memory). */
function readWithExternalData(modelPath: string): BuiltModel {
  const model = readFileSync(modelPath);
  const locations = new Set<string>();
  for (const t of onnx.ModelProto.decode(model).graph?.initializer ?? [])
    for (const e of t.externalData ?? []) if (e.key === 'location' && e.value) locations.add(e.value);
  const externalData = [...locations].map((path) => ({ path, data: readWhole(join(dirname(modelPath), path)) }));
  return { model, externalData };
}

/** readFileSync stops at 2 GiB; an Optimum export's single model.onnx_data is often larger. */
function readWhole(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const data = new Uint8Array(fstatSync(fd).size);
    for (let at = 0; at < data.length; ) {
      const n = readSync(fd, data, at, Math.min(data.length - at, 1 << 30), at);
      if (n === 0) throw new Error(`${path}: file ended at byte ${at} of ${data.length}`);
      at += n;
    }
    return data;
  } finally {
    closeSync(fd);
  }
}

function hostWeight(name: string, t: ITensor, dims: number[], chunks: Map<string, Uint8Array>): HostWeight {
  const entry = (key: string) => t.externalData?.find((e) => e.key === key)?.value ?? '';
  const chunk = chunks.get(entry('location'));
  if (!chunk) throw new Error(`streamWeights: weight '${name}' names external data '${entry('location')}', not given`);
  const offset = Number(entry('offset') || 0);
  const length = Number(entry('length'));
  const bytes = chunk.subarray(offset, offset + length);
  if (t.dataType === FLOAT16) return { name, dims, dtype: 'float16', data: view(bytes, 2, Uint16Array) };
  if (t.dataType === FLOAT32) return { name, dims, dtype: 'float32', data: view(bytes, 4, Float32Array) };
  throw new Error(`streamWeights: weight '${name}' has element type ${t.dataType}; only float16/float32 are streamed`);
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

function shape(dims: number[]) {
  return { dim: dims.map((d) => ({ dimValue: d })) };
}
