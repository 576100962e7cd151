// Convenience layers over the graph core, in the builder's floatType; weight names follow PyTorch state dicts.
import type { GraphCore as GraphBuilder, Value } from './graph-core.ts';

/** torch.nn.Linear: `${prefix}.weight` [out, in] (+ `${prefix}.bias` [out]) on the last axis. */
export function linear(b: GraphBuilder, x: Value, prefix: string, inDim: number, outDim: number, bias = true): Value {
  const w = b.paramT(`${prefix}.weight`, [outDim, inDim]);
  const y = b.op1('MatMul', [x, w]);
  return bias ? b.op1('Add', [y, b.param(`${prefix}.bias`, [outDim])]) : y;
}

/** torch.nn.Conv2d (NCHW), square kernel, symmetric padding. */
export function conv2d(
  b: GraphBuilder,
  x: Value,
  prefix: string,
  inC: number,
  outC: number,
  k: number,
  stride = 1,
  pad = 0,
  bias = true,
): Value {
  const inputs: Value[] = [x, b.param(`${prefix}.weight`, [outC, inC, k, k])];
  if (bias) inputs.push(b.param(`${prefix}.bias`, [outC]));
  return b.op1('Conv', inputs, { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] });
}

/** A float32 constant, whatever the build's floatType (for maths that must stay fp32). */
export function constF32(b: GraphBuilder, values: readonly number[], dims: readonly number[]): Value {
  const flat = b.op1('Constant', [], { value_floats: { floats: [...values] } });
  return dims.length === 1 && dims[0] === values.length ? flat : b.op1('Reshape', [flat, b.constInt64([...dims])]);
}

/**
 * torch.nn.GroupNorm over NC... input: per-group InstanceNormalization on [N, G, -1], then the per-channel affine.
 * fp32Stats keeps the statistics in float32 in an fp16 build (fp16 variance overflows on large activations).
 */
export function groupNorm(
  b: GraphBuilder,
  x: Value,
  prefix: string,
  groups: number,
  channels: number,
  eps: number,
  opts: { readonly fp32Stats?: boolean } = {},
): Value {
  const upcast = opts.fp32Stats === true && b.floatType === 'float16';
  const stats = (values: number[]) => (upcast ? constF32(b, values, [groups]) : b.constFloat(values, [groups]));
  const grouped = b.op1('Reshape', [upcast ? b.cast(x, 'float32') : x, b.constInt64([0, groups, -1])]);
  const ones = stats(new Array<number>(groups).fill(1));
  const zeros = stats(new Array<number>(groups).fill(0));
  const normed = b.op1('InstanceNormalization', [grouped, ones, zeros], { epsilon: eps });
  let back = b.op1('Reshape', [normed, b.op1('Shape', [x])]);
  if (upcast) back = b.cast(back, 'float16');
  const w = b.op1('Unsqueeze', [b.param(`${prefix}.weight`, [channels]), b.constInt64([1, 2])]);
  const bias = b.op1('Unsqueeze', [b.param(`${prefix}.bias`, [channels]), b.constInt64([1, 2])]);
  return b.op1('Add', [b.op1('Mul', [back, w]), bias]);
}

/** torch.nn.LayerNorm over the last axis. */
export function layerNorm(b: GraphBuilder, x: Value, prefix: string, dim: number, eps: number): Value {
  return b.op1('LayerNormalization', [x, b.param(`${prefix}.weight`, [dim]), b.param(`${prefix}.bias`, [dim])], {
    axis: -1,
    epsilon: eps,
  });
}

export function silu(b: GraphBuilder, x: Value): Value {
  return b.op1('Mul', [x, b.op1('Sigmoid', [x])]);
}

/** GELU; exact (erf) by default, as torch.nn.functional.gelu. */
export function gelu(b: GraphBuilder, x: Value, approximate: 'none' | 'tanh' = 'none'): Value {
  if (approximate === 'tanh') return b.op1('FastGelu', [x], {}, { domain: 'com.microsoft' });
  return b.op1('Gelu', [x], {}, { domain: 'com.microsoft' });
}

/** x * sigmoid(1.702 x), CLIP's quick_gelu. */
export function quickGelu(b: GraphBuilder, x: Value): Value {
  return b.op1('Mul', [x, b.op1('Sigmoid', [b.op1('Mul', [x, b.constFloat(1.702)])])]);
}

export interface MhaOptions {
  /** Causal (lower-triangular) attention, as CLIP's text encoder. */
  causal?: boolean;
  /** Additive bias broadcastable to [B, heads, S, T] (4-D). */
  attentionBias?: Value;
  /** Defaults to 1/sqrt(head_dim). */
  scale?: number;
}

/** Multi-head attention on [B, S, heads*d] tensors: com.microsoft.MultiHeadAttention, or MatMul+Softmax. */
export function mha(b: GraphBuilder, q: Value, k: Value, v: Value, heads: number, opts: MhaOptions = {}): Value {
  if (b.attention === 'mha') {
    const attrs: Record<string, number | { float: number }> = { num_heads: heads };
    let bias = opts.attentionBias;
    if (opts.causal && b.target === 'webgpu') {
      // ORT's WebGPU MHA kernel rejects unidirectional=1: give the causal mask as a [1, 1, S, S] bias instead
      const mask = b.op1('Unsqueeze', [causalBias(b, q, 1), b.constInt64([0, 1])]);
      bias = bias ? b.op1('Add', [bias, mask]) : mask;
    } else if (opts.causal) attrs.unidirectional = 1;
    if (opts.scale !== undefined) attrs.scale = { float: opts.scale };
    const inputs: (Value | '')[] = [q, k, v];
    if (bias) inputs.push('', '', bias);
    return b.op1('MultiHeadAttention', inputs, attrs, { domain: 'com.microsoft' });
  }
  return matmulAttention(b, q, k, v, heads, opts);
}

function matmulAttention(b: GraphBuilder, q: Value, k: Value, v: Value, heads: number, opts: MhaOptions): Value {
  const split = (x: Value) =>
    b.op1('Transpose', [b.op1('Reshape', [x, b.constInt64([0, 0, heads, -1])])], { perm: [0, 2, 1, 3] });
  const qh = split(q);
  const kt = b.op1('Transpose', [b.op1('Reshape', [k, b.constInt64([0, 0, heads, -1])])], { perm: [0, 2, 3, 1] });
  const vh = split(v);
  // scale = 1/sqrt(d) unless given: d comes from q's runtime shape, so compute it in the graph
  const scale =
    opts.scale !== undefined
      ? b.constFloat(opts.scale)
      : b.op1('Reciprocal', [
          b.op1('Sqrt', [
            b.cast(b.op1('Slice', [b.op1('Shape', [qh]), b.constInt64([3]), b.constInt64([4])]), b.floatType),
          ]),
        ]);
  let scores = b.op1('Mul', [b.op1('MatMul', [qh, kt]), scale]);
  if (opts.attentionBias) scores = b.op1('Add', [scores, opts.attentionBias]);
  if (opts.causal) scores = b.op1('Add', [scores, causalBias(b, qh, 2)]);
  const probs = b.op1('Softmax', [scores], { axis: -1 });
  const out = b.op1('Transpose', [b.op1('MatMul', [probs, vh])], { perm: [0, 2, 1, 3] });
  return b.op1('Reshape', [out, b.constInt64([0, 0, -1])]);
}

/** [S, S] additive mask: 0 on and below the diagonal, a large negative above (S = x's dim `axis`). */
function causalBias(b: GraphBuilder, x: Value, axis: number): Value {
  const s = b.op1('Slice', [b.op1('Shape', [x]), b.constInt64([axis]), b.constInt64([axis + 1])]);
  const ss = b.op1('Concat', [s, s], { axis: 0 });
  const ones = b.op1('Expand', [b.constInt64(1), ss]);
  const upper = b.op1('Trilu', [ones, b.constInt64(1)], { upper: 1 });
  const neg = b.floatType === 'float16' ? -65504 : -3.4028234663852886e38;
  return b.op1('Mul', [b.cast(upper, b.floatType), b.constFloat(neg)]);
}
