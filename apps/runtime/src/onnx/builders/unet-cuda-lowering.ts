// Test support: the CUDA-only com.microsoft ops the UNet and VAE decoder builders emit (NhwcConv, GroupNorm, SkipGroupNorm,
// BiasSplitGelu, BiasAdd) rewritten as plain ONNX with the semantics ONNX Runtime documents for them, so a
// float32 cuda-target graph runs on the CPU EP and its wiring can be checked against the plain graph.
import onnxProto from 'onnx-proto';
import type { BuiltModel } from '../built-model.ts';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type IAttribute = onnxProto.onnx.IAttributeProto;
const T = onnx.AttributeProto.AttributeType;

const LOWERED = new Set(['NhwcConv', 'GroupNorm', 'SkipGroupNorm', 'BiasSplitGelu', 'BiasAdd']);
const ints = (name: string, v: number[]): IAttribute => ({ name, type: T.INTS, ints: v });
const int = (name: string, v: number): IAttribute => ({ name, type: T.INT, i: v });
const flt = (name: string, v: number): IAttribute => ({ name, type: T.FLOAT, f: v });

/** The model with every LOWERED node replaced by plain ONNX nodes (same external data). */
export function lowerCudaOps(built: BuiltModel): BuiltModel {
  const model = onnx.ModelProto.decode(built.model);
  const graph = model.graph;
  if (!graph) throw new Error('lowerCudaOps: the model has no graph');
  const nodes: INode[] = [];
  let n = 0;
  const emit = (opType: string, input: string[], attribute: IAttribute[] = [], output = [`lowered_${n++}`]) => {
    nodes.push({ opType, input, output, attribute, name: `lowered_node_${n++}`, ...msDomain(opType) });
    return output[0] as string;
  };
  const constInts = (v: number[]) => emit('Constant', [], [ints('value_ints', v)]);
  const constFloats = (v: number[]) => emit('Constant', [], [{ name: 'value_floats', type: T.FLOATS, floats: v }]);
  const nchw = (x: string) => emit('Transpose', [x], [ints('perm', [0, 3, 1, 2])]);
  const nhwc = (x: string, out?: string) =>
    emit('Transpose', [x], [ints('perm', [0, 2, 3, 1])], out === undefined ? undefined : [out]);

  for (const node of graph.node ?? []) {
    if (node.domain !== 'com.microsoft' || !LOWERED.has(node.opType ?? '')) {
      nodes.push(node);
      continue;
    }
    const [x = '', a = '', b = '', c = '', d = ''] = node.input ?? [];
    const out = node.output?.[0] ?? '';
    const attr = (key: string) => node.attribute?.find((t) => t.name === key);
    const attrInt = (key: string) => Number(attr(key)?.i ?? 0);
    switch (node.opType) {
      case 'NhwcConv': {
        // weight [out, kH, kW, in] -> [out, in, kH, kW]
        const w = nchw(a);
        const keep = (node.attribute ?? []).filter((t) =>
          ['kernel_shape', 'strides', 'pads', 'dilations', 'group'].includes(t.name ?? ''),
        );
        nhwc(emit('Conv', b ? [nchw(x), w, b] : [nchw(x), w], keep), out);
        break;
      }
      case 'GroupNorm':
      case 'SkipGroupNorm': {
        if (attrInt('channels_last') !== 1) throw new Error(`lowerCudaOps: ${node.name} is not channels_last`);
        // SkipGroupNorm: skip [N, C] broadcast over H and W (the form the builder emits), added first
        const skipped =
          node.opType === 'SkipGroupNorm' ? emit('Add', [x, emit('Unsqueeze', [c, constInts([1, 2])])]) : x;
        // optional bias [C] (the folded conv bias), added with the skip
        const input = d ? emit('Add', [skipped, d]) : skipped;
        const groups = attrInt('groups');
        const t = nchw(input);
        const grouped = emit('Reshape', [t, constInts([0, groups, -1])]);
        const ones = constFloats(new Array<number>(groups).fill(1));
        const zeros = constFloats(new Array<number>(groups).fill(0));
        const normed = emit(
          'InstanceNormalization',
          [grouped, ones, zeros],
          [flt('epsilon', Number(attr('epsilon')?.f))],
        );
        const back = nhwc(emit('Reshape', [normed, emit('Shape', [t])]));
        const affine = emit('Add', [emit('Mul', [back, a]), b]);
        if (attrInt('activation') === 1) emit('Mul', [affine, emit('Sigmoid', [affine])], [], [out]);
        else emit('Identity', [affine], [], [out]);
        break;
      }
      case 'BiasSplitGelu': {
        // left * gelu(right) of x + bias split in halves on the last axis
        const sum = emit('Add', [x, a]);
        const [left, right] = [`lowered_${n++}`, `lowered_${n++}`];
        emit('Split', [sum], [int('axis', -1)], [left, right]);
        emit('Mul', [left, emit('Gelu', [right])], [], [out]);
        break;
      }
      case 'BiasAdd':
        emit('Add', [emit('Add', [x, a]), b], [], [out]);
        break;
    }
  }
  graph.node = nodes;
  return { model: onnx.ModelProto.encode(model).finish(), externalData: built.externalData };
}

function msDomain(opType: string): { domain?: string } {
  return opType === 'Gelu' ? { domain: 'com.microsoft' } : {};
}
