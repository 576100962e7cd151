import path from 'node:path';
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SyntheticSource } from '../../models/synthetic-weights.ts';
import { SafetensorsSource } from '../../models/weight-source.ts';
import { buildUnet, UNET_INPUTS } from './unet.ts';
import { parseUnetConfig } from './unet-config.ts';
import { NO_FUSIONS } from './unet-fusions.ts';
import {
  otherUnetConfig,
  pseudoRandom,
  RecordingSource,
  readJson,
  unetRef as ref,
  relativeError,
  runOnce,
  unetDir,
} from './unet-test-support.ts';

const config = readJson(path.join(unetDir, 'config.json'));
const feeds = (timestep: string): Record<string, Tensor> => ({
  sample: ref('sample'),
  timestep: ref(timestep),
  encoder_hidden_states: ref('encoder_hidden_states'),
  text_embeds: ref('text_embeds'),
  time_ids: ref('time_ids'),
});

describe('buildUnet on sdxl-tiny', () => {
  const weights = new RecordingSource(SafetensorsSource.open(unetDir));
  let out999: Tensor | undefined;
  let out500: Tensor | undefined;

  beforeAll(async () => {
    const built = buildUnet(config, weights, { precision: 'fp32', target: 'cpu' });
    out999 = (await runOnce(built, feeds('timestep_999'))).out_sample;
    out500 = (await runOnce(built, feeds('timestep_500'))).out_sample;
  });

  it('matches diffusers at t=999 and t=500 within 1e-4', () => {
    expect(out999?.dims).toEqual([2, 4, 16, 16]);
    expect(relativeError(out999?.data ?? [], ref('out_t999').data)).toBeLessThan(1e-4);
    expect(relativeError(out500?.data ?? [], ref('out_t500').data)).toBeLessThan(1e-4);
  });

  it('reads every state-dict key of the fixture exactly once, and nothing else', () => {
    const keys = SafetensorsSource.open(unetDir).names().sort();
    expect([...weights.reads.keys()].sort()).toEqual(keys);
    expect([...weights.reads.values()].every((n) => n === 1)).toBe(true);
  });

  it('broadcasts a [1] timestep the same as a [B] one', async () => {
    const built = buildUnet(config, SafetensorsSource.open(unetDir), { precision: 'fp32', target: 'cpu' });
    const t = ref('timestep_500');
    const perRow = { dims: [2], data: Float32Array.from([t.data[0] as number, t.data[0] as number]) };
    const { out_sample } = await runOnce(built, { ...feeds('timestep_500'), timestep: perRow });
    expect(relativeError(out_sample?.data ?? [], ref('out_t500').data)).toBeLessThan(1e-4);
  });

  it('builds fp16 weights that stay close to fp32', async () => {
    const built = buildUnet(config, SafetensorsSource.open(unetDir), { precision: 'fp16', target: 'cpu' });
    const { out_sample } = await runOnce(built, feeds('timestep_999'));
    // fp16 weights with fp32 compute on the CPU EP: measured drift 6.3e-4 on this fixture (fp32: 7.7e-7)
    expect(relativeError(out_sample?.data ?? [], ref('out_t999').data)).toBeLessThan(5e-3);
  });
  it('builds a float16 graph for GPU targets that type-checks and runs (on the CPU EP here)', async () => {
    // the plain fp16 graph (CUDA contrib-op fusions off: the CPU EP has no kernels for them)
    const built = buildUnet(config, SafetensorsSource.open(unetDir), {
      precision: 'fp16',
      target: 'cuda',
      fusions: NO_FUSIONS,
    });
    const { out_sample } = await runOnce(built, feeds('timestep_500'));
    // fp16 activations end to end (group-norm statistics and timestep sinusoids in fp32): measured drift 9.4e-4
    expect(relativeError(out_sample?.data ?? [], ref('out_t500').data)).toBeLessThan(5e-3);
  });

  it('emits the CUDA contrib ops by default for target cuda and none for cpu', () => {
    const opTypes = (target: 'cpu' | 'cuda') => {
      const m = onnxProto.onnx.ModelProto.decode(
        buildUnet(config, SafetensorsSource.open(unetDir), { precision: 'fp16', target }).model,
      );
      return new Set((m.graph?.node ?? []).map((n) => `${n.domain ?? ''}:${n.opType}`));
    };
    const cuda = opTypes('cuda');
    for (const op of ['NhwcConv', 'GroupNorm', 'SkipGroupNorm', 'MultiHeadAttention']) {
      expect(cuda.has(`com.microsoft:${op}`)).toBe(true);
    }
    expect(cuda.has(':Conv')).toBe(false);
    expect(cuda.has(':InstanceNormalization')).toBe(false);
    const cpu = opTypes('cpu');
    expect(
      [...cpu].filter(
        (op) => op.startsWith('com.microsoft:') && !op.endsWith(':MultiHeadAttention') && !op.endsWith(':Gelu'),
      ),
    ).toEqual([]);
  });
});

describe('buildUnet on another SDXL-family config (synthetic weights)', () => {
  const arch = parseUnetConfig(otherUnetConfig, 'other/config.json');
  const inputs = (h: number, w: number): Record<string, Tensor> => ({
    sample: pseudoRandom([2, 4, h, w], 1),
    timestep: { dims: [1], data: Float32Array.from([321]) },
    encoder_hidden_states: pseudoRandom([2, 77, 40], 2),
    text_embeds: pseudoRandom([2, 20], 3),
    time_ids: { dims: [2, 6], data: Float32Array.from([64, 64, 0, 0, 64, 64, 48, 80, 4, 8, 48, 80]) },
  });

  it('resolves heads, depths and skips as diffusers does', () => {
    expect(arch.down.map((d) => d.layers.map((l) => l.attn?.depth ?? 0))).toEqual([[0], [2, 2], [3]]);
    expect(arch.mid.attns.map((t) => [t.heads, t.headDim, t.depth])).toEqual([[4, 12, 3]]);
    expect(arch.up.map((u) => u.layers.map((l) => l.attn?.heads ?? 0))).toEqual([
      [4, 4],
      [3, 3, 3],
      [0, 0],
    ]);
    expect(arch.up.map((u) => u.layers.map((l) => l.resnet.inC))).toEqual([
      [96, 72],
      [72, 48, 40],
      [40, 32],
    ]);
    expect(arch.skipChannels).toEqual([16, 16, 16, 24, 24, 24, 48]);
  });

  it('runs deterministically with finite outputs of the right shape, also on sizes the levels do not divide', async () => {
    const weights = new RecordingSource(new SyntheticSource({ seed: 7 }));
    const built = buildUnet(otherUnetConfig, weights, { precision: 'fp32', target: 'cpu' });
    const a = (await runOnce(built, inputs(12, 12))).out_sample;
    const again = buildUnet(otherUnetConfig, new SyntheticSource({ seed: 7 }), { precision: 'fp32', target: 'cpu' });
    const b = (await runOnce(again, inputs(12, 12))).out_sample;
    expect(a?.dims).toEqual([2, 4, 12, 12]);
    expect(a?.data.every(Number.isFinite)).toBe(true);
    expect(Array.from(b?.data ?? [])).toEqual(Array.from(a?.data ?? []));
    // the two batch rows differ in every input, so the outputs must too (no batch mixing or broadcasting bug)
    const half = (a?.data.length ?? 0) / 2;
    expect(relativeError(a?.data.subarray(0, half) ?? [], a?.data.subarray(half) ?? [])).toBeGreaterThan(0.01);
    const odd = (await runOnce(built, inputs(10, 14))).out_sample;
    expect(odd?.dims).toEqual([2, 4, 10, 14]);
    expect(odd?.data.every(Number.isFinite)).toBe(true);

    // names follow the diffusers key grammar of the real fixture, each read once
    const grammar = (k: string) => k.replace(/\.\d+\./g, '.#.');
    const known = new Set(SafetensorsSource.open(unetDir).names().map(grammar));
    const names = [...weights.reads.keys()];
    expect(names.filter((k) => !known.has(grammar(k)))).toEqual([]);
    expect([...weights.reads.values()].every((n) => n === 1)).toBe(true);
    const blocks = (prefix: string) =>
      new Set(names.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length).split('.')[0])).size;
    expect(blocks('mid_block.attentions.0.transformer_blocks.')).toBe(3);
    expect(blocks('up_blocks.0.attentions.1.transformer_blocks.')).toBe(3);
    expect(blocks('up_blocks.1.attentions.')).toBe(3);
    expect(blocks('down_blocks.1.resnets.')).toBe(2);
    expect(blocks('up_blocks.2.resnets.')).toBe(2);
    // use_linear_projection false: proj_in / proj_out are 1x1 convolutions
    expect(weights.shapes.get('down_blocks.2.attentions.0.proj_in.weight')).toEqual([48, 48, 1, 1]);
    expect(weights.shapes.get('up_blocks.1.attentions.2.transformer_blocks.1.attn2.to_k.weight')).toEqual([24, 40]);
  });
});

describe('buildUnet errors', () => {
  const c = config as Record<string, unknown>;

  it('names config.json and the field for a config that is not SDXL-shaped', () => {
    const w = SafetensorsSource.open(unetDir);
    const opts = { precision: 'fp32', target: 'cpu' } as const;
    expect(() => buildUnet({ ...c, addition_embed_type: null }, w, opts)).toThrow(
      /unet\/config\.json.*addition_embed_type/,
    );
    expect(() => buildUnet({ ...c, down_block_types: ['DownBlock2D', 'AttnDownBlock2D'] }, w, opts)).toThrow(
      /unet\/config\.json.*down_block_types\[1\].*AttnDownBlock2D/,
    );
    expect(() => buildUnet({ ...c, block_out_channels: 'wide' }, w, opts)).toThrow(/config\.json.*block_out_channels/);
  });

  it('names the file and tensor when a weight disagrees with config.json, before any session exists', () => {
    const w = SafetensorsSource.open(unetDir);
    expect(() => buildUnet({ ...c, cross_attention_dim: 48 }, w, { precision: 'fp32', target: 'cpu' })).toThrow(
      /diffusion_pytorch_model\.safetensors: tensor 'down_blocks\.1\.attentions\.0\.transformer_blocks\.0\.attn2\.to_k\.weight' has shape \[64, 64\]/,
    );
  });

  it('lists the graph inputs in the documented order', () => {
    expect(UNET_INPUTS).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'time_ids']);
  });
});
