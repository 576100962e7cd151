// Which ONNX Runtime CUDA contrib ops the UNet builder emits (target 'cuda' only; other targets get plain ONNX).
// Each is a build option so the GPU benchmark can toggle it; the defaults are what measured fastest (BENCHMARKS.md).
import type { Target } from '../graph-builder.ts';

export interface UnetFusions {
  /** 'nhwc': channels-last activations with com.microsoft.NhwcConv (transformer token views become free reshapes). */
  layout: 'nchw' | 'nhwc';
  /** com.microsoft.GroupNorm (channels-last, SiLU fused); in the NCHW layout it is wrapped in two Transposes. */
  groupNorm: boolean;
  /** com.microsoft.SkipGroupNorm: a resnet's time-embedding add fused into its norm2 (needs groupNorm). */
  skipGroupNorm: boolean;
  /** com.microsoft.BiasSplitGelu for GEGLU (proj bias + split + value * gelu(gate)); only widths ORT supports. */
  biasSplitGelu: boolean;
  /** MultiHeadAttention with packed QKV (self-attention) and packed KV (cross-attention): one MatMul each. */
  packedQkv: boolean;
  /** com.microsoft.SkipLayerNormalization: attention to_out bias + residual + norm2 / norm3 in one kernel. */
  skipLayerNorm: boolean;
  /** SkipLayerNormalization again: the feed-forward's net.2 bias + residual + the next block's norm1. */
  ffSkipLayerNorm: boolean;
  /**
   * com.microsoft.BiasAdd (x + bias + skip, widths 320 / 640 / 1280 only): a feed-forward's net.2 bias + residual
   * where no norm1 follows, and (NHWC, linear projections) proj_out's bias + the transformer's outer residual.
   */
  biasAdd: boolean;
  /**
   * Resnet conv biases folded away (cuDNN adds a conv's bias in a separate pass): conv1's into norm2's
   * SkipGroupNorm bias input, conv2's (+ conv_shortcut's) into a BiasAdd with the residual (NHWC, BiasAdd widths).
   */
  foldConvBias: boolean;
}

export const NO_FUSIONS: Readonly<UnetFusions> = {
  layout: 'nchw',
  groupNorm: false,
  skipGroupNorm: false,
  biasSplitGelu: false,
  packedQkv: false,
  skipLayerNorm: false,
  ffSkipLayerNorm: false,
  biasAdd: false,
  foldConvBias: false,
};

/** The CUDA defaults (see BENCHMARKS.md for the per-option measurements behind them). */
export const DEFAULT_CUDA_FUSIONS: Readonly<UnetFusions> = {
  layout: 'nhwc',
  groupNorm: true,
  skipGroupNorm: true,
  biasSplitGelu: true,
  // packed QKV/KV measured 2.5% slower on an H100 (145.8 vs 142.3 ms per batch-8 step), so off by default
  packedQkv: false,
  // measured -5.8% per step on an H100 (141.2 -> 133.0 ms)
  skipLayerNorm: true,
  // with biasAdd: measured -3% per step on an H100 (132.0 -> 128.2 ms)
  ffSkipLayerNorm: true,
  // with ffSkipLayerNorm: measured -3% per step on an H100 (132.0 -> 128.2 ms)
  biasAdd: true,
  // measured -2.3% per step on an H100 (127.8 -> 124.8 ms): cuDNN's separate conv-bias passes go
  foldConvBias: true,
};

const SWITCHES = [
  'groupNorm',
  'skipGroupNorm',
  'biasSplitGelu',
  'packedQkv',
  'skipLayerNorm',
  'ffSkipLayerNorm',
  'biasAdd',
  'foldConvBias',
] as const satisfies readonly (keyof UnetFusions)[];
type Switch = (typeof SWITCHES)[number];
const isSwitch = (key: string): key is Switch => (SWITCHES as readonly string[]).includes(key);

/** Fusions for a build: none off CUDA; on CUDA the defaults overridden by `requested`; NHWC implies groupNorm. */
export function resolveFusions(target: Target | undefined, requested?: Partial<UnetFusions>): UnetFusions {
  if (target !== 'cuda') return { ...NO_FUSIONS };
  const f = { ...DEFAULT_CUDA_FUSIONS, ...requested };
  if (f.layout === 'nhwc') f.groupNorm = true; // the plain-ONNX group norm is written for NCHW
  if (!f.groupNorm) f.skipGroupNorm = false;
  if (f.layout !== 'nhwc') f.foldConvBias = false; // BiasAdd's token-major view of the residual needs NHWC
  return f;
}

/** "layout=nchw,packedQkv=0" -> Partial<UnetFusions> (benchmark command lines); "none" = all off, "" = defaults. */
export function parseFusions(spec: string): Partial<UnetFusions> {
  if (spec.trim() === 'none') return { ...NO_FUSIONS };
  const out: Partial<UnetFusions> = {};
  for (const item of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [key, raw = '1'] = item.split('=');
    if (key === 'layout') {
      if (raw !== 'nchw' && raw !== 'nhwc') throw new Error(`fusions: layout must be nchw or nhwc, got '${raw}'`);
      out.layout = raw;
    } else if (key !== undefined && isSwitch(key)) {
      if (!['0', '1', 'true', 'false'].includes(raw)) throw new Error(`fusions: ${key} must be 0 or 1, got '${raw}'`);
      out[key] = raw === '1' || raw === 'true';
    } else {
      throw new Error(`fusions: unknown option '${key}' (layout, ${SWITCHES.join(', ')})`);
    }
  }
  return out;
}
