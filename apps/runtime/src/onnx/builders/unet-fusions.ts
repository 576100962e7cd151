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
}

export const NO_FUSIONS: Readonly<UnetFusions> = {
  layout: 'nchw',
  groupNorm: false,
  skipGroupNorm: false,
  biasSplitGelu: false,
  packedQkv: false,
  skipLayerNorm: false,
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
};

/** Fusions for a build: none off CUDA; on CUDA the defaults overridden by `requested`; NHWC implies groupNorm. */
export function resolveFusions(target: Target | undefined, requested?: Partial<UnetFusions>): UnetFusions {
  if (target !== 'cuda') return { ...NO_FUSIONS };
  const f = { ...DEFAULT_CUDA_FUSIONS, ...requested };
  if (f.layout === 'nhwc') f.groupNorm = true; // the plain-ONNX group norm is written for NCHW
  if (!f.groupNorm) f.skipGroupNorm = false;
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
    } else if (
      key === 'groupNorm' ||
      key === 'skipGroupNorm' ||
      key === 'biasSplitGelu' ||
      key === 'packedQkv' ||
      key === 'skipLayerNorm'
    ) {
      out[key] = raw === '1' || raw === 'true';
    } else {
      throw new Error(
        `fusions: unknown option '${key}' (layout, groupNorm, skipGroupNorm, biasSplitGelu, packedQkv, skipLayerNorm)`,
      );
    }
  }
  return out;
}
