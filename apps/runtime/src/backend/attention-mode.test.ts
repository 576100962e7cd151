import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AttentionMode, UnetHandle } from '@sdflow/nodes/values.ts';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { createSession } from '../onnx/session.ts';
import { fixtureDir } from '../sdxl/testing/references.ts';
import { torchRandn } from '../sdxl/torch-rng.ts';
import type { SessionSpec } from './model-store.ts';
import { testBackends } from './testing/test-backends.ts';

// loadModel's attention switch: plain (MatMul + Softmax) UNet graphs give fused (MultiHeadAttention) outputs, and
// live in sessions of their own beside the fused ones.

const work = mkdtempSync(path.join(tmpdir(), 'sdflow-attention-'));
const signal = new AbortController().signal;
const backends = testBackends(work, path.dirname(fixtureDir));
const b = backends.create();
afterAll(() => backends.disposeAll());

// every session spec the store is asked for, to inspect the graph each UNet session runs
const specs: SessionSpec[] = [];
const use = b.store.use.bind(b.store);
b.store.use = (spec, policy, fn) => {
  specs.push(spec);
  return use(spec, policy, fn);
};

const load = (attention?: AttentionMode) =>
  b.loadModel({
    model: path.basename(fixtureDir),
    precision: 'fp32',
    device: 'cpu',
    offload: { mode: 'none', budgetMiB: 0 },
    ...(attention ? { attention } : {}),
  });

function opTypes(spec: SessionSpec): Set<string> {
  const built = spec.build();
  if (!('model' in built)) throw new Error(`${spec.key}: expected a built graph, got ${built.modelPath}`);
  const m = onnxProto.onnx.ModelProto.decode(built.model);
  return new Set((m.graph?.node ?? []).map((n) => `${n.domain ?? ''}:${n.opType}`));
}

describe('loadModel attention', () => {
  it('plain matches fused within 1e-4, in a separate MultiHeadAttention-free UNet session', async () => {
    const fused = await load();
    const plain = await load('plain');
    expect(fused.unet.attention ?? 'fused').toBe('fused');
    expect(plain.unet.attention).toBe('plain');

    const conditioning = await b.encodePrompt(plain.clip, 'a photo of a cat', null, signal);
    const step = (unet: UnetHandle) =>
      b.denoise({
        unet,
        conditioning,
        latent: { samples: { dims: [1, 4, 8, 8], data: torchRandn([1, 4, 8, 8], 3) }, kind: 'noise' },
        steps: 1,
        cfg: 5,
        scheduler: 'euler',
        seed: 3,
        denoise: 1,
        preview: { method: 'none', every: 1 },
        onStep: () => undefined,
        onPreview: () => undefined,
        signal,
      });
    const a = (await step(fused.unet)).samples.data;
    const p = (await step(plain.unet)).samples.data;
    expect(p.length).toBe(a.length);
    expect(Math.max(...p.map((v, i) => Math.abs(v - a[i]!)))).toBeLessThan(1e-4);
    expect(p.some((v, i) => v !== a[i])).toBe(true); // different graphs, so not bit-identical

    // a fused run again reuses its session: one UNet session per attention mode; text encoders are shared
    await step(fused.unet);
    expect(b.store.stats().created).toMatchObject({ unet: 2, text_encoder: 1, text_encoder_2: 1 });

    const unetSpecs = [...new Map(specs.filter((s) => s.component === 'unet').map((s) => [s.key, s])).values()];
    expect(unetSpecs).toHaveLength(2);
    const [fusedOps, plainOps] = unetSpecs.map(opTypes) as [Set<string>, Set<string>];
    expect(fusedOps.has('com.microsoft:MultiHeadAttention')).toBe(true);
    expect(plainOps.has('com.microsoft:MultiHeadAttention')).toBe(false);
    expect(plainOps.has(':Softmax')).toBe(true);
  });

  it("plain: ONNX Runtime folds the score scale into the QK MatMul (FusedMatMul's alpha), as diffusers' baddbmm", async () => {
    const plain = await load('plain');
    expect(plain.unet.attention).toBe('plain');
    const spec = specs.find((s) => s.component === 'unet' && s.key.includes('|plain'));
    if (!spec) throw new Error('no plain UNet session was asked for');
    const built = spec.build();
    if (!('model' in built)) throw new Error(`${spec.key}: expected a built graph`);
    const file = path.join(work, 'unet-plain.optimized.onnx');
    const s = await createSession(built, { device: 'cpu', threads: 1, optimizedModelPath: file });
    await s.release();
    const nodes = onnxProto.onnx.ModelProto.decode(readFileSync(file)).graph?.node ?? [];
    const count = (op: string) => nodes.filter((n) => n.opType === op).length;
    const softmaxes = count('Softmax');
    expect(softmaxes).toBeGreaterThan(0);
    // every attention's scores come scaled out of one GEMM: no separate pass over them before the softmax
    const fused = nodes.filter((n) => n.opType === 'FusedMatMul');
    const scaled = fused.filter((n) => n.attribute?.some((a) => a.name === 'alpha' && a.f !== 1));
    expect(scaled.length).toBe(softmaxes);
    const producer = new Map(nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
    for (const n of nodes.filter((x) => x.opType === 'Softmax'))
      expect(producer.get(n.input?.[0] ?? '')?.opType, `${n.name}'s input`).toBe('FusedMatMul');
  });
});
