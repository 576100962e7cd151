import path from 'node:path';
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { SyntheticSource } from '../../models/synthetic-weights.ts';
import { SafetensorsSource } from '../../models/weight-source.ts';
import type { BuiltModel } from '../built-model.ts';
import { buildUnet, textEmbedsDim } from './unet.ts';
import { parseUnetConfig, type TransformerArch } from './unet-config.ts';
import { lowerCudaOps } from './unet-cuda-lowering.ts';
import { DEFAULT_CUDA_FUSIONS, NO_FUSIONS, parseFusions, resolveFusions, type UnetFusions } from './unet-fusions.ts';
import {
  BiasedSource,
  fusionWidthUnetConfig,
  pseudoRandom,
  readJson,
  unetRef as ref,
  relativeError,
  runOnce,
  unetDir,
} from './unet-test-support.ts';

const tinyConfig = readJson(path.join(unetDir, 'config.json'));

function opCounts(built: BuiltModel): Map<string, number> {
  const m = onnxProto.onnx.ModelProto.decode(built.model);
  const counts = new Map<string, number>();
  for (const n of m.graph?.node ?? []) counts.set(n.opType ?? '', (counts.get(n.opType ?? '') ?? 0) + 1);
  return counts;
}

/** Transformers (T) and transformer blocks (D) of a config: each fused site occurs once per T or per D. */
function transformerSites(config: unknown): { T: number; D: number } {
  const a = parseUnetConfig(config, 'fusions/config.json');
  const all: TransformerArch[] = [
    ...a.down.flatMap((d) => d.layers.flatMap((l) => (l.attn ? [l.attn] : []))),
    ...a.mid.attns,
    ...a.up.flatMap((u) => u.layers.flatMap((l) => (l.attn ? [l.attn] : []))),
  ];
  return { T: all.length, D: all.reduce((s, t) => s + t.depth, 0) };
}

describe('parseFusions / resolveFusions', () => {
  it('toggles ffSkipLayerNorm and biasAdd by name, on by default for cuda only', () => {
    expect(parseFusions('biasAdd=0,ffSkipLayerNorm=1')).toEqual({ biasAdd: false, ffSkipLayerNorm: true });
    expect(parseFusions('foldConvBias=0')).toEqual({ foldConvBias: false });
    expect(resolveFusions('cuda', { layout: 'nchw' }).foldConvBias).toBe(false);
    expect(parseFusions('none')).toMatchObject({ biasAdd: false, ffSkipLayerNorm: false, skipLayerNorm: false });
    expect(resolveFusions('cuda', parseFusions(''))).toMatchObject({ biasAdd: true, ffSkipLayerNorm: true });
    expect(resolveFusions('cpu', { biasAdd: true, ffSkipLayerNorm: true })).toEqual(NO_FUSIONS);
    expect(resolveFusions('webgpu', DEFAULT_CUDA_FUSIONS)).toEqual(NO_FUSIONS);
  });

  it('names the option or value it does not know', () => {
    expect(() => parseFusions('biasAdd=2')).toThrow(/biasAdd must be 0 or 1, got '2'/);
    expect(() => parseFusions('biasAdds=1')).toThrow(/unknown option 'biasAdds'.*ffSkipLayerNorm, biasAdd/);
  });
});

describe('feed-forward and proj_out bias + residual fusions (target cuda)', () => {
  // float32 so the same graphs also run on the CPU EP once the CUDA-only ops are lowered
  const weights = () => new BiasedSource(new SyntheticSource({ seed: 5 }));
  const cache = new Map<string, BuiltModel>();
  const build = (fusions: Partial<UnetFusions>) => {
    const key = JSON.stringify(fusions);
    let built = cache.get(key);
    if (!built) {
      built = buildUnet(fusionWidthUnetConfig, weights(), { precision: 'fp32', target: 'cuda', fusions });
      cache.set(key, built);
    }
    return built;
  };
  const { T, D } = transformerSites(fusionWidthUnetConfig);
  const p = textEmbedsDim(parseUnetConfig(fusionWidthUnetConfig, 'fusions/config.json'), {});
  const feeds: Record<string, Tensor> = {
    sample: pseudoRandom([1, 4, 4, 6], 1),
    timestep: { dims: [1], data: Float32Array.from([500]) },
    encoder_hidden_states: pseudoRandom([1, 7, 40], 2),
    text_embeds: pseudoRandom([1, p], 3),
    time_ids: pseudoRandom([1, 6], 4),
  };

  it('emits BiasAdd and SkipLayerNormalization at every site, and nothing of them when off', () => {
    expect([T, D]).toEqual([4, 8]); // so every kind of site below occurs more than once
    const on = opCounts(build({ foldConvBias: false })); // resnet sites: the next test
    // BiasAdd: each transformer's last feed-forward and its proj_out + outer residual
    expect(on.get('BiasAdd')).toBe(2 * T);
    // SkipLayerNormalization: norm2 and norm3 of every block, norm1 of every block but the first
    expect(on.get('SkipLayerNormalization')).toBe(2 * D + (D - T));
    expect(on.get('LayerNormalization')).toBe(T);

    const noBiasAdd = opCounts(build({ biasAdd: false }));
    expect(noBiasAdd.get('BiasAdd')).toBeUndefined();
    expect(noBiasAdd.get('SkipLayerNormalization')).toBe(2 * D + (D - T));
    expect((noBiasAdd.get('Add') ?? 0) - (on.get('Add') ?? 0)).toBe(2 * 2 * T);

    const noFfSln = opCounts(build({ ffSkipLayerNorm: false, foldConvBias: false }));
    expect(noFfSln.get('BiasAdd')).toBe(D + T); // every feed-forward now ends in a BiasAdd
    expect(noFfSln.get('SkipLayerNormalization')).toBe(2 * D);
    expect(noFfSln.get('LayerNormalization')).toBe(D);

    const neither = opCounts(build({ biasAdd: false, ffSkipLayerNorm: false }));
    expect(neither.get('BiasAdd')).toBeUndefined();
    expect((neither.get('Add') ?? 0) - (on.get('Add') ?? 0)).toBe(2 * T + 2 * D);

    // NCHW: proj_out's residual needs a transpose either way, so only the feed-forwards take BiasAdd
    expect(opCounts(build({ layout: 'nchw', foldConvBias: false })).get('BiasAdd')).toBe(T);
  });

  it('folds each resnet conv bias into SkipGroupNorm (conv1) and a residual BiasAdd (conv2 + shortcut)', () => {
    const a = parseUnetConfig(fusionWidthUnetConfig, 'fusions/config.json');
    const resnets =
      [...a.down.flatMap((d) => d.layers), ...a.up.flatMap((u) => u.layers)].length + a.mid.resnets.length;
    const withBias = (m: BuiltModel, op: string) => {
      const g = onnxProto.onnx.ModelProto.decode(m.model).graph;
      return (g?.node ?? []).filter((n) => n.opType === op && (n.input?.length ?? 0) >= (op === 'NhwcConv' ? 3 : 5));
    };
    const on = build({ foldConvBias: true });
    const off = build({ foldConvBias: false });
    expect(resnets).toBeGreaterThan(2);
    // without BiasAdd only conv1's bias folds
    expect(withBias(build({ foldConvBias: true, biasAdd: false }), 'SkipGroupNorm')).toHaveLength(resnets);
    expect(opCounts(build({ foldConvBias: true, biasAdd: false })).get('BiasAdd')).toBeUndefined();
    expect(withBias(on, 'SkipGroupNorm')).toHaveLength(resnets);
    expect(withBias(off, 'SkipGroupNorm')).toHaveLength(0);
    expect((opCounts(on).get('BiasAdd') ?? 0) - (opCounts(off).get('BiasAdd') ?? 0)).toBe(resnets);
    // the biased convs left: conv_in, conv_out and the down/upsamplers; no resnet conv keeps its bias
    const biased = (m: BuiltModel) => withBias(m, 'NhwcConv').map((n) => n.input?.[2] ?? '');
    expect(biased(on).filter((b) => b.includes('resnets'))).toEqual([]);
    expect(biased(off).filter((b) => b.includes('resnets')).length).toBeGreaterThanOrEqual(2 * resnets);
    expect(withBias(build({ layout: 'nchw', foldConvBias: true }), 'SkipGroupNorm')).toHaveLength(0); // NHWC only
  });

  it('uses BiasAdd only at widths its CUDA kernel takes (sdxl-tiny is 32 and 64 wide)', () => {
    const { T: t, D: d } = transformerSites(tinyConfig);
    const counts = opCounts(
      buildUnet(tinyConfig, SafetensorsSource.open(unetDir), { precision: 'fp16', target: 'cuda' }),
    );
    expect(counts.get('BiasAdd')).toBeUndefined();
    expect(counts.get('SkipLayerNormalization')).toBe(3 * d - t);
  });

  it('keeps CPU and WebGPU graphs free of them whatever is asked', () => {
    for (const target of ['cpu', 'webgpu'] as const) {
      const built = buildUnet(fusionWidthUnetConfig, new SyntheticSource({ seed: 5 }), {
        precision: 'fp16',
        target,
        fusions: { biasAdd: true, ffSkipLayerNorm: true, skipLayerNorm: true },
      });
      const ops = [...opCounts(built).keys()];
      expect(ops.filter((op) => op === 'BiasAdd' || op.startsWith('Skip'))).toEqual([]);
    }
  });

  it('computes what the plain graph computes, with each option on and off (CUDA-only ops lowered, CPU EP)', async () => {
    const plain = buildUnet(fusionWidthUnetConfig, weights(), { precision: 'fp32', target: 'cpu' });
    const expected = (await runOnce(plain, feeds)).out_sample?.data ?? [];
    const variants: Partial<UnetFusions>[] = [
      {},
      { biasAdd: false },
      { ffSkipLayerNorm: false },
      { foldConvBias: true },
      { layout: 'nchw' },
    ];
    for (const fusions of variants) {
      const out = (await runOnce(lowerCudaOps(build(fusions)), feeds)).out_sample;
      expect(out?.dims).toEqual([1, 4, 4, 6]);
      expect(relativeError(out?.data ?? [], expected), JSON.stringify(fusions)).toBeLessThan(1e-4);
    }
  });

  it('matches diffusers on sdxl-tiny with the default CUDA graph (lowered) and with SkipLayerNorm alone', async () => {
    const tinyFeeds = {
      sample: ref('sample'),
      timestep: ref('timestep_999'),
      encoder_hidden_states: ref('encoder_hidden_states'),
      text_embeds: ref('text_embeds'),
      time_ids: ref('time_ids'),
    };
    const defaults = buildUnet(tinyConfig, SafetensorsSource.open(unetDir), { precision: 'fp32', target: 'cuda' });
    const out = (await runOnce(lowerCudaOps(defaults), tinyFeeds)).out_sample;
    expect(relativeError(out?.data ?? [], ref('out_t999').data)).toBeLessThan(1e-4);
    // only SkipLayerNormalization (which has a CPU kernel) left on: no lowering at all
    const slnOnly = buildUnet(tinyConfig, SafetensorsSource.open(unetDir), {
      precision: 'fp32',
      target: 'cuda',
      fusions: { ...NO_FUSIONS, skipLayerNorm: true, ffSkipLayerNorm: true },
    });
    expect(opCounts(slnOnly).get('SkipLayerNormalization')).toBeGreaterThan(0);
    const direct = (await runOnce(slnOnly, tinyFeeds)).out_sample;
    expect(relativeError(direct?.data ?? [], ref('out_t999').data)).toBeLessThan(1e-4);
  });
});
