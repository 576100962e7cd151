// Builds ONNX graphs on onnx-proto; weights become external data held in memory (see built-model.ts).
//
// Additions to the plan's API (nothing removed):
// - opts.target ('cpu' | 'cuda' | 'webgpu', default 'cpu') and opts.attention ('mha' | 'matmul', default 'mha':
//   com.microsoft.MultiHeadAttention on every target, its CPU fp32 kernel included; 'matmul' = MatMul+Softmax).
//   mha(..., { causal: true }) uses MHA's unidirectional=1 on cpu/cuda, and a [1, 1, S, S] attention_bias on
//   webgpu (ORT's WebGPU MHA kernel rejects unidirectional). Both are tested on the CPU EP.
// - fp16 builds are float16 end to end on every target (floatType = weightType = 'float16'): the same graph runs
//   on CUDA and on the CPU EP, where ONNX Runtime's InsertCastTransformer wraps ops lacking fp16 CPU kernels in
//   Casts to float32 (so CPU fp16 drift is a fair stand-in for the GPU's). opts.fp16WeightsOnly keeps float16 weights
//   but computes in float32 (floatType = 'float32', a Cast after each weight), e.g. for a parity comparison.
// - inputFloat / outputFloat: graph edges in float32 with a Cast to/from floatType, so callers always feed and
//   read float32 whatever the precision. Every builder here uses them for float inputs and outputs.
// - Attr: a plain number is an INT when Number.isInteger, else a FLOAT, EXCEPT for the attribute names in
//   FLOAT_ATTRS (epsilon, alpha, beta, scale, ...), always FLOAT; `{ float: x }` / `{ int: x }` force it.
//   `{ graph }` attributes are not supported (no builder needs control flow).
// - paramT(name, [out, in]): the weight transposed to [in, out] at load time (for MatMul-based linear layers).
// - Weights are written once, straight into preallocated external-data chunks in weightType (WeightSource.readInto
//   where the source has it: raw f16 bytes for an f16 safetensors file, generated in place for SyntheticSource), so
//   a build's host memory peaks near the model's size. weightWith(name, dims, fill) lets a builder write a derived
//   weight in place too; weightFromArray converts its float32 array straight into the chunk.
// - layers (linear, conv2d, groupNorm, layerNorm, silu, gelu, quickGelu, mha) are GraphBuilder's (graph-builder.ts),
//   which adds them over this core so that layers.ts can build on the core without an import cycle.
import onnxProto from 'onnx-proto';
import type { WeightBuffer } from '../models/weight-buffer.ts';
import { readWeightInto, type WeightSource } from '../models/weight-source.ts';
import type { BuiltModel, ExternalDataFile } from './built-model.ts';
import { f32ToF16 } from './float16.ts';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
type IValueInfo = onnxProto.onnx.IValueInfoProto;
type IAttribute = onnxProto.onnx.IAttributeProto;

export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';
export interface Value {
  readonly name: string;
}
export type Attr =
  | number
  | string
  | number[]
  | string[]
  | { float: number }
  | { int: number }
  | { floats: number[] }
  | { ints: number[] };
export type Target = 'cpu' | 'cuda' | 'webgpu';
export type Precision = 'fp32' | 'fp16';

export interface GraphBuilderOptions {
  name: string;
  precision: Precision;
  weights: WeightSource;
  /** Default opset 17. */
  opset?: number;
  target?: Target;
  attention?: 'mha' | 'matmul';
  /** Max bytes per external data file (default 1 GiB). */
  chunkBytes?: number;
  /** fp16 only: store weights in float16 but compute in float32. */
  fp16WeightsOnly?: boolean;
}

const FLOAT_ATTRS = new Set(['epsilon', 'alpha', 'beta', 'scale', 'mask_filter_value', 'gamma', 'lambd', 'bias']);
const ELEM: Record<DType, number> = { float32: 1, float16: 10, int64: 7, int32: 6, bool: 9 };
const GiB = 1024 * 1024 * 1024;
const ALIGN = 64;

export class GraphCore {
  readonly name: string;
  readonly precision: Precision;
  readonly target: Target;
  readonly attention: 'mha' | 'matmul';
  readonly weights: WeightSource;
  /** float dtype of activations (and of constFloat) for this build. */
  readonly floatType: DType;
  /** dtype weights are stored in. */
  readonly weightType: DType;
  readonly opset: number;

  private readonly nodes: INode[] = [];
  private readonly initializers: ITensor[] = [];
  private readonly inputs: IValueInfo[] = [];
  private readonly outputs: IValueInfo[] = [];
  private readonly params = new Map<string, Value>();
  private readonly usedNames = new Set<string>();
  private readonly chunkBytes: number;
  // chunks are allocated at chunkBytes (zero pages stay unbacked until written) and filled in place
  private chunks: { data: Uint8Array; size: number }[] = [];
  private counter = 0;
  private usesMs = false;
  private built = false;

  constructor(opts: GraphBuilderOptions) {
    this.name = opts.name;
    this.precision = opts.precision;
    this.target = opts.target ?? 'cpu';
    this.attention = opts.attention ?? 'mha';
    this.weights = opts.weights;
    this.opset = opts.opset ?? 17;
    this.chunkBytes = opts.chunkBytes ?? GiB;
    this.weightType = opts.precision === 'fp16' ? 'float16' : 'float32';
    this.floatType = opts.precision === 'fp16' && !opts.fp16WeightsOnly ? 'float16' : 'float32';
  }

  /** A fresh value name (unique within the graph). */
  fresh(hint: string): string {
    let n = hint.replace(/[^A-Za-z0-9_./:-]/g, '_');
    if (this.usedNames.has(n)) n = `${n}__${this.counter++}`;
    this.usedNames.add(n);
    return n;
  }

  input(name: string, dtype: DType, dims: readonly (number | string)[]): Value {
    if (this.usedNames.has(name)) throw new Error(`${this.name}: graph input name '${name}' is already used`);
    this.usedNames.add(name);
    this.inputs.push(valueInfo(name, dtype, dims));
    return { name };
  }

  /** A float32 graph input, cast to floatType. */
  inputFloat(name: string, dims: readonly (number | string)[]): Value {
    const v = this.input(name, 'float32', dims);
    return this.floatType === 'float32' ? v : this.cast(v, this.floatType);
  }

  output(v: Value, name: string, dtype: DType, dims: readonly (number | string)[]): void {
    if (v.name !== name)
      this.nodes.push({ opType: 'Identity', input: [v.name], output: [this.claim(name)], name: `out_${name}` });
    this.outputs.push(valueInfo(name, dtype, dims));
  }

  /** A float32 graph output from a floatType value. */
  outputFloat(v: Value, name: string, dims: readonly (number | string)[]): void {
    this.output(this.floatType === 'float32' ? v : this.cast(v, 'float32'), name, 'float32', dims);
  }

  has(name: string): boolean {
    return this.weights.has(name);
  }

  /** A weight from the WeightSource, shape-checked, stored as external data in weightType, as floatType. */
  param(name: string, expectedDims: readonly number[]): Value {
    return this.loadParam(name, expectedDims, false);
  }

  /** A 2-D weight [out, in] stored transposed as [in, out] (MatMul's layout). */
  paramT(name: string, expectedDims: readonly [number, number]): Value {
    return this.loadParam(name, expectedDims, true);
  }

  /** A float32 array of your own stored as a weight (external data), e.g. a derived table. */
  weightFromArray(name: string, data: Float32Array, dims: readonly number[]): Value {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n)
      throw new Error(`${this.name}: weight '${name}' has ${data.length} values for dims [${dims.join(', ')}]`);
    return this.weightWith(name, dims, (dst) => {
      if (dst.dtype === 'float32') dst.data.set(data);
      else f32ToF16(data, dst.data);
    });
  }

  /**
   * A weight of your own written in place: `fill` gets its external-data slot in weightType (float32 values, or
   * float16 bits) and must write every element; no intermediate copy of the weight is made.
   */
  weightWith(name: string, dims: readonly number[], fill: (dst: WeightBuffer) => void): Value {
    const stored = this.claim(name);
    this.addExternal(stored, dims, fill);
    return this.weightType === this.floatType ? { name: stored } : this.cast({ name: stored }, this.floatType);
  }

  constFloat(values: number | readonly number[], dims?: readonly number[]): Value {
    const arr = Float32Array.from(typeof values === 'number' ? [values] : values);
    const name = this.fresh('const_f');
    const t: ITensor = { name, dims: [...(dims ?? (typeof values === 'number' ? [] : [arr.length]))] };
    if (this.floatType === 'float16') {
      t.dataType = ELEM.float16;
      t.rawData = bytes(f32ToF16(arr));
    } else {
      t.dataType = ELEM.float32;
      t.rawData = bytes(arr);
    }
    this.initializers.push(t);
    return { name };
  }

  constInt64(values: number | readonly number[], dims?: readonly number[]): Value {
    const list = typeof values === 'number' ? [values] : values;
    const arr = BigInt64Array.from(list.map((x) => BigInt(x)));
    const name = this.fresh('const_i');
    this.initializers.push({
      name,
      dataType: ELEM.int64,
      dims: [...(dims ?? (typeof values === 'number' ? [] : [arr.length]))],
      rawData: bytes(arr),
    });
    return { name };
  }

  op(
    type: string,
    inputs: readonly (Value | '')[],
    attrs: Record<string, Attr> = {},
    opts: { domain?: string; outputs?: number; name?: string } = {},
  ): Value[] {
    const base = opts.name ?? `${type}_${this.counter++}`;
    const n = opts.outputs ?? 1;
    const outs = Array.from({ length: n }, (_, i) => this.fresh(n === 1 ? base : `${base}:${i}`));
    const node: INode = {
      opType: type,
      input: inputs.map((v) => (v === '' ? '' : v.name)),
      output: outs,
      name: this.fresh(`n_${base}`),
      attribute: Object.entries(attrs).map(([k, a]) => attribute(k, a)),
    };
    if (opts.domain && opts.domain !== '' && opts.domain !== 'ai.onnx') {
      node.domain = opts.domain;
      if (opts.domain === 'com.microsoft') this.usesMs = true;
    }
    this.nodes.push(node);
    return outs.map((name) => ({ name }));
  }

  op1(
    type: string,
    inputs: readonly (Value | '')[],
    attrs?: Record<string, Attr>,
    opts: { domain?: string; name?: string } = {},
  ): Value {
    return this.op(type, inputs, attrs, opts)[0] as Value;
  }

  cast(v: Value, to: DType): Value {
    return this.op1('Cast', [v], { to: ELEM[to] });
  }

  build(): BuiltModel {
    if (this.built) throw new Error(`${this.name}: build() called twice`);
    this.built = true;
    // views of the used part of each chunk: no copy (an unused tail was never written, so never backed)
    const externalData: ExternalDataFile[] = this.chunks.map((c, i) => ({
      path: this.chunkPath(i),
      data: c.data.subarray(0, c.size),
    }));
    this.chunks = [];
    const opsetImport = [{ domain: '', version: this.opset }];
    if (this.usesMs) opsetImport.push({ domain: 'com.microsoft', version: 1 });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'sdflow',
      opsetImport,
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return { model: onnx.ModelProto.encode(model).finish(), externalData };
  }

  private claim(name: string): string {
    if (this.usedNames.has(name)) throw new Error(`${this.name}: value name '${name}' is already used`);
    this.usedNames.add(name);
    return name;
  }

  private chunkPath(i: number): string {
    return i === 0 ? 'model.onnx_data' : `model.onnx_data_${i}`;
  }

  private loadParam(name: string, expectedDims: readonly number[], transpose: boolean): Value {
    const key = transpose ? `${name}^T` : name;
    const cached = this.params.get(key);
    if (cached) return cached;
    const dims = transpose ? [expectedDims[1] as number, expectedDims[0] as number] : expectedDims;
    const stored = this.fresh(transpose ? `${name}.T` : name);
    this.addExternal(stored, dims, (dst) => readWeightInto(this.weights, name, expectedDims, dst, { transpose }));
    const v = this.weightType === this.floatType ? { name: stored } : this.cast({ name: stored }, this.floatType);
    this.params.set(key, v);
    return v;
  }

  private addExternal(name: string, dims: readonly number[], fill: (dst: WeightBuffer) => void): void {
    const n = dims.reduce((a, b) => a * b, 1);
    const elemBytes = this.weightType === 'float16' ? 2 : 4;
    const length = n * elemBytes;
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || (chunk.size > 0 && align(chunk.size) + length > chunk.data.length)) {
      chunk = { data: new Uint8Array(Math.max(this.chunkBytes, length)), size: 0 };
      this.chunks.push(chunk);
    }
    const offset = align(chunk.size);
    const at = chunk.data.byteOffset + offset;
    fill(
      this.weightType === 'float16'
        ? { dtype: 'float16', data: new Uint16Array(chunk.data.buffer, at, n) }
        : { dtype: 'float32', data: new Float32Array(chunk.data.buffer, at, n) },
    );
    chunk.size = offset + length;
    this.initializers.push({
      name,
      dataType: ELEM[this.weightType],
      dims: [...dims],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: this.chunkPath(this.chunks.length - 1) },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ],
    });
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function bytes(a: Float32Array | Uint16Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function valueInfo(name: string, dtype: DType, dims: readonly (number | string)[]): IValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[dtype],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, a: Attr): IAttribute {
  const T = onnx.AttributeProto.AttributeType;
  const enc = new TextEncoder();
  if (typeof a === 'number') {
    if (FLOAT_ATTRS.has(name) || !Number.isInteger(a)) return { name, type: T.FLOAT, f: a };
    return { name, type: T.INT, i: a };
  }
  if (typeof a === 'string') return { name, type: T.STRING, s: enc.encode(a) };
  if (Array.isArray(a)) {
    if (a.length > 0 && typeof a[0] === 'string')
      return { name, type: T.STRINGS, strings: (a as string[]).map((s) => enc.encode(s)) };
    const nums = a as number[];
    if (nums.every((x) => Number.isInteger(x))) return { name, type: T.INTS, ints: nums };
    return { name, type: T.FLOATS, floats: nums };
  }
  if ('float' in a) return { name, type: T.FLOAT, f: a.float };
  if ('int' in a) return { name, type: T.INT, i: a.int };
  if ('floats' in a) return { name, type: T.FLOATS, floats: a.floats };
  return { name, type: T.INTS, ints: a.ints };
}
