import { GraphCore, type Value } from './graph-core.ts';
import * as layers from './layers.ts';

// The graph builder every ONNX builder uses: the core (graph-core.ts: ops, weights, inputs and outputs, build) plus
// the convenience layers of layers.ts as methods, all in the build's floatType.

export type { Attr, DType, GraphBuilderOptions, Precision, Target, Value } from './graph-core.ts';

export class GraphBuilder extends GraphCore {
  // Convenience layers, all in floatType (see layers.ts).
  linear(x: Value, prefix: string, inDim: number, outDim: number, bias = true): Value {
    return layers.linear(this, x, prefix, inDim, outDim, bias);
  }
  conv2d(x: Value, prefix: string, inC: number, outC: number, k: number, stride = 1, pad = 0, bias = true): Value {
    return layers.conv2d(this, x, prefix, inC, outC, k, stride, pad, bias);
  }
  groupNorm(x: Value, prefix: string, groups: number, channels: number, eps: number): Value {
    return layers.groupNorm(this, x, prefix, groups, channels, eps);
  }
  layerNorm(x: Value, prefix: string, dim: number, eps: number): Value {
    return layers.layerNorm(this, x, prefix, dim, eps);
  }
  silu(x: Value): Value {
    return layers.silu(this, x);
  }
  gelu(x: Value, approximate: 'none' | 'tanh' = 'none'): Value {
    return layers.gelu(this, x, approximate);
  }
  quickGelu(x: Value): Value {
    return layers.quickGelu(this, x);
  }
  /** q [B, S, heads*d], k/v [B, T, heads*d] -> [B, S, heads*d]. */
  mha(q: Value, k: Value, v: Value, heads: number, opts: layers.MhaOptions = {}): Value {
    return layers.mha(this, q, k, v, heads, opts);
  }
}
