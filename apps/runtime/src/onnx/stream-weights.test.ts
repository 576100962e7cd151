import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { writeBuilt } from '../models/export.ts';
import { MemorySource } from '../models/memory-source.ts';
import { SafetensorsSource } from '../models/weight-source.ts';
import { fixtureDir } from '../sdxl/testing/references.ts';
import { buildUnet } from './builders/unet.ts';
import { GraphBuilder } from './graph-builder.ts';
import { createSession } from './session.ts';
import { Slabs, streamWeights } from './stream-weights.ts';

// Streamed weights: the same outputs as the graph with initializers, the weights fed from host memory, and on
// CUDA a MemcpyFromHost per weight listed before every other node (ONNX Runtime's order then copies each weight
// just before its consumer).

const { onnx } = onnxProto;

function twoLayers(precision: 'fp32' | 'fp16') {
  const rnd = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) / 4);
  const weights = new MemorySource({
    'l1.weight': { dims: [16, 8], data: rnd(128, 1) },
    'l1.bias': { dims: [16], data: rnd(16, 2) },
    'l2.weight': { dims: [4, 16], data: rnd(64, 3) },
  });
  const g = new GraphBuilder({ name: 'two', precision, weights });
  const x = g.inputFloat('x', [2, 8]);
  const h = g.gelu(g.linear(x, 'l1', 8, 16));
  g.outputFloat(g.linear(h, 'l2', 16, 4, false), 'y', [2, 4]);
  return g.build();
}

const feeds = { x: { dims: [2, 8], data: Float32Array.from({ length: 16 }, (_, i) => i / 8 - 1) } };

describe('streamWeights', () => {
  for (const precision of ['fp32', 'fp16'] as const) {
    it(`gives the plain graph's outputs with every weight fed from host memory (${precision})`, async () => {
      const plain = await createSession(twoLayers(precision), { device: 'cpu', threads: 1 });
      const streamed = streamWeights(twoLayers(precision), 'cpu');
      expect(streamed.externalData).toEqual([]);
      expect(streamed.hostWeights?.map((w) => [w.name, w.dtype, w.dims])).toEqual(
        (['l1.weight.T', 'l1.bias', 'l2.weight.T'] as const).map((n, i) => [
          n,
          precision === 'fp16' ? 'float16' : 'float32',
          [[8, 16], [16], [16, 4]][i],
        ]),
      );
      const elem = precision === 'fp16' ? 2 : 4;
      expect(streamed.hostWeights?.reduce((a, w) => a + w.data.byteLength, 0)).toBe((128 + 16 + 64) * elem);
      const s = await createSession(streamed, { device: 'cpu', threads: 1 });
      expect(s.inputNames).toEqual(['x']);
      const [a, b] = [(await plain.run(feeds)).y!, (await s.run(feeds)).y!];
      expect(b.dims).toEqual([2, 4]);
      for (const [i, v] of a.data.entries()) expect(b.data[i]).toBeCloseTo(v, 6);
      // the host arrays are read on every run, not copied once at session creation
      const again = (await s.run(feeds)).y!;
      expect([...again.data]).toEqual([...b.data]);
      await Promise.all([plain.release(), s.release()]);
    });
  }

  it('reads an ONNX file and its external data files from disk (a cached build or an export)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sdflow-stream-'));
    try {
      writeBuilt(twoLayers('fp32'), dir);
      const fromDisk = streamWeights({ modelPath: path.join(dir, 'model.onnx') }, 'cpu');
      const inMemory = streamWeights(twoLayers('fp32'), 'cpu');
      expect(fromDisk.hostWeights?.map((w) => [w.name, [...w.data]])).toEqual(
        inMemory.hostWeights?.map((w) => [w.name, [...w.data]]),
      );
      const [s, t] = await Promise.all(
        [fromDisk, inMemory].map((m) => createSession(m, { device: 'cpu', threads: 1 })),
      );
      expect([...(await s!.run(feeds)).y!.data]).toEqual([...(await t!.run(feeds)).y!.data]);
      await Promise.all([s!.release(), t!.release()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the smallest weights resident in one packed data file, read back from disk per tensor', async () => {
    const weights = new MemorySource({
      'big.weight': { dims: [128, 128], data: Float32Array.from({ length: 128 * 128 }, (_, i) => Math.cos(i) / 8) },
      'big.bias': { dims: [128], data: Float32Array.from({ length: 128 }, (_, i) => i / 128) },
    });
    const g = new GraphBuilder({ name: 'big', precision: 'fp32', weights });
    g.outputFloat(g.linear(g.inputFloat('x', [1, 128]), 'big', 128, 128), 'y', [1, 128]);
    const dir = mkdtempSync(path.join(tmpdir(), 'sdflow-stream-'));
    try {
      const built = g.build();
      writeBuilt(built, dir);
      const streamed = streamWeights({ modelPath: path.join(dir, 'model.onnx') }, 'cpu');
      // the bias (512 bytes) is under 1% of the 66 kB: resident, packed; the matrix streams
      expect(streamed.hostWeights?.map((w) => w.name)).toEqual(['big.weight.T']);
      expect(streamed.externalData.map((f) => [f.path, f.data.byteLength])).toEqual([['resident.onnx_data', 512]]);
      const x = { x: { dims: [1, 128], data: Float32Array.from({ length: 128 }, (_, i) => Math.sin(i)) } };
      const [a, b] = await Promise.all([built, streamed].map((m) => createSession(m, { device: 'cpu', threads: 1 })));
      const [want, got] = [(await a!.run(x)).y!, (await b!.run(x)).y!];
      // a constant matrix is pre-packed by the CPU EP, a fed one is not: the sums round alike to ~1e-7
      for (const [i, v] of want.data.entries())
        expect(Math.abs(got.data[i]! - v)).toBeLessThan(1e-6 * Math.max(1, Math.abs(v)));
      await Promise.all([a!.release(), b!.release()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on CUDA puts a MemcpyFromHost in front of every weight, before all other nodes', () => {
    const streamed = streamWeights(twoLayers('fp16'), 'cuda');
    const graph = onnx.ModelProto.decode(streamed.model).graph!;
    const nodes = graph.node ?? [];
    const copies = nodes.filter((n) => n.opType === 'MemcpyFromHost');
    expect(copies.map((n) => n.input?.[0])).toEqual(['l1.weight.T', 'l1.bias', 'l2.weight.T']);
    expect(nodes.slice(0, copies.length)).toEqual(copies);
    // no other node reads a host weight directly: each reads its copy
    const hostNames = new Set(streamed.hostWeights?.map((w) => w.name));
    for (const n of nodes.slice(copies.length)) for (const i of n.input ?? []) expect(hostNames.has(i)).toBe(false);
    expect(graph.input?.map((i) => i.name)).toEqual(['x', 'l1.weight.T', 'l1.bias', 'l2.weight.T']);
    expect(graph.initializer?.every((t) => t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL)).toBe(true);
  });

  it("keeps NhwcConv's weights (constant-only on CUDA) and the smallest 1% of the other bytes resident", () => {
    const dir = path.join(fixtureDir, 'unet');
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    const built = buildUnet(config, SafetensorsSource.open(dir), { precision: 'fp16', target: 'cuda' });
    const streamed = streamWeights(built, 'cuda');
    const graph = onnx.ModelProto.decode(streamed.model).graph!;
    const resident = new Map(
      (graph.initializer ?? [])
        .filter((t) => t.externalData?.length)
        .map((t) => [t.name!, Number(t.externalData!.find((e) => e.key === 'length')!.value)]),
    );
    const convWeights = (graph.node ?? [])
      .filter((n) => n.opType === 'NhwcConv')
      .flatMap((n) => (n.input ?? []).slice(1).filter((i) => i !== ''));
    expect(convWeights.length).toBeGreaterThan(0);
    for (const w of convWeights) expect(resident.has(w)).toBe(true);
    expect(streamed.externalData.map((f) => f.path)).toEqual(['resident.onnx_data']);
    // beside the conv weights: only small tensors (biases, norms), at most 1% of all weight bytes
    const hostBytes = (streamed.hostWeights ?? []).reduce((a, w) => a + w.data.byteLength, 0);
    const others = [...resident].filter(([name]) => !convWeights.includes(name)).map(([, b]) => b);
    const otherBytes = others.reduce((a, b) => a + b, 0);
    expect(others.length).toBeGreaterThan(streamed.hostWeights!.length); // most of the tensors
    const residentBytes = [...resident.values()].reduce((a, b) => a + b, 0);
    expect(otherBytes).toBeLessThanOrEqual(0.01 * (hostBytes + residentBytes));
    expect(hostBytes).toBeGreaterThan(0);
  });

  it('streamed weights read from files share a few large aligned blocks', () => {
    const slabs = new Slabs(1000);
    const a = slabs.take(100);
    const b = slabs.take(30);
    const c = slabs.take(900); // does not fit what is left: a new block
    const big = slabs.take(5000); // larger than a block: its own buffer
    expect(b.buffer).toBe(a.buffer);
    expect([a.byteOffset, b.byteOffset]).toEqual([0, 128]);
    expect(c.buffer).not.toBe(a.buffer);
    expect([c.byteOffset, c.length, c.buffer.byteLength]).toEqual([0, 900, 1000]);
    expect([big.length, big.buffer.byteLength]).toEqual([5000, 5000]);
    expect(slabs.take(40).buffer).toBe(c.buffer); // at 960, up to the block's end
  });
});
