import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { f32ToF16 } from '../onnx/float16.ts';
import { MemorySource } from './memory-source.ts';
import { encodeSafetensors } from './safetensors.ts';
import { SyntheticSource } from './synthetic-weights.ts';
import { readWeightInto, SafetensorsSource } from './weight-source.ts';

const root = mkdtempSync(join(tmpdir(), 'sdflow-ws-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string, files: Record<string, Record<string, number[]> | object>): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  for (const [f, content] of Object.entries(files)) {
    if (f.endsWith('.json')) writeFileSync(join(d, f), JSON.stringify(content));
    else {
      const t = Object.fromEntries(
        Object.entries(content as Record<string, number[]>).map(([k, v]) => [
          k,
          { dims: [v.length], data: Float32Array.from(v) },
        ]),
      );
      writeFileSync(join(d, f), encodeSafetensors(t));
    }
  }
  return d;
}

describe('SafetensorsSource', () => {
  it('prefers plain weights, or the fp16 variant when asked or when it is the only one', () => {
    const both = folder('both', { 'model.safetensors': { a: [1, 2] }, 'model.fp16.safetensors': { a: [3, 4] } });
    expect(Array.from(SafetensorsSource.open(both).read('a', [2]))).toEqual([1, 2]);
    expect(Array.from(SafetensorsSource.open(both, { variant: 'fp16' }).read('a', [2]))).toEqual([3, 4]);
    const only16 = folder('only16', { 'diffusion_pytorch_model.fp16.safetensors': { a: [5, 6] } });
    expect(Array.from(SafetensorsSource.open(only16).read('a', [2]))).toEqual([5, 6]);
  });

  it('reads sharded weights through the index', () => {
    const d = folder('sharded', {
      'model-00001-of-00002.safetensors': { a: [1] },
      'model-00002-of-00002.safetensors': { b: [2, 3] },
      'model.safetensors.index.json': {
        metadata: {},
        weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' },
      },
    });
    const s = SafetensorsSource.open(d);
    expect(s.files.length).toBe(2);
    expect(s.dims('b')).toEqual([2]);
    expect(Array.from(s.read('b', [2]))).toEqual([2, 3]);
  });

  it('names file, tensor and both shapes on a shape mismatch, and tensor + folder when missing', () => {
    const d = folder('mismatch', { 'model.safetensors': { 'fc.weight': [1, 2, 3] } });
    const s = SafetensorsSource.open(d);
    expect(() => s.read('fc.weight', [4])).toThrow(
      `${join(d, 'model.safetensors')}: tensor 'fc.weight' has shape [3] but config.json implies [4]`,
    );
    expect(() => s.read('fc.bias', [3])).toThrow(`${d}: missing tensor 'fc.bias'`);
  });

  it('names the folder when it has no weights or a shard is missing', () => {
    const empty = folder('empty', { 'config.json': {} });
    expect(() => SafetensorsSource.open(empty)).toThrow(`${empty}: no *.safetensors weights`);
    const broken = folder('broken', {
      'model.safetensors.index.json': { weight_map: { a: 'model-00001-of-00002.safetensors' } },
    });
    expect(() => SafetensorsSource.open(broken)).toThrow(/shard model-00001-of-00002\.safetensors is missing/);
  });
});

describe('SyntheticSource', () => {
  it('is deterministic, fan-in scaled, with unit norm weights and zero biases', () => {
    const a = new SyntheticSource({ seed: 1 }).read('down.0.proj.weight', [64, 256]);
    const b = new SyntheticSource({ seed: 1 }).read('down.0.proj.weight', [64, 256]);
    const c = new SyntheticSource({ seed: 2 }).read('down.0.proj.weight', [64, 256]);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const bound = 1 / 16;
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
    expect(std).toBeCloseTo(bound / Math.sqrt(3), 3);
    const s = new SyntheticSource();
    expect(Array.from(s.read('blocks.0.norm1.weight', [3]))).toEqual([1, 1, 1]);
    expect(Array.from(s.read('final_layer_norm.weight', [2]))).toEqual([1, 1]);
    expect(Array.from(s.read('blocks.0.proj.bias', [2]))).toEqual([0, 0]);
    expect(s.dims('blocks.0.proj.bias')).toEqual([2]);
    const half = new Uint16Array(2);
    s.readInto('blocks.0.norm1.weight', [2], { dtype: 'float16', data: half });
    expect(Array.from(half)).toEqual([0x3c00, 0x3c00]);
  });

  it('writes float16 and transposed layouts in place, equal to the float32 weights rounded / transposed', () => {
    const s = new SyntheticSource({ seed: 5 });
    for (const [r, c] of [
      [6, 4],
      [5, 7],
      [1, 9],
      [9, 1],
    ] as const) {
      const w = s.read('fc.weight', [r, c]);
      const t = new Float32Array(r * c);
      s.readInto('fc.weight', [r, c], { dtype: 'float32', data: t }, { transpose: true });
      const th = new Uint16Array(r * c);
      s.readInto('fc.weight', [r, c], { dtype: 'float16', data: th }, { transpose: true });
      const h = new Uint16Array(r * c);
      s.readInto('fc.weight', [r, c], { dtype: 'float16', data: h });
      const wh = f32ToF16(w);
      expect(h).toEqual(wh);
      for (let i = 0; i < r; i++)
        for (let j = 0; j < c; j++) {
          expect(t[j * r + i]).toBe(w[i * c + j]);
          expect(th[j * r + i]).toBe(wh[i * c + j]);
        }
    }
  });
});

describe('readWeightInto', () => {
  it('falls back to read for sources without readInto, converting and transposing', () => {
    const src = new MemorySource({ w: { dims: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) } });
    const data = new Uint16Array(6);
    readWeightInto(src, 'w', [2, 3], { dtype: 'float16', data }, { transpose: true });
    expect(Array.from(data)).toEqual(Array.from(f32ToF16(Float32Array.from([1, 4, 2, 5, 3, 6]))));
    expect(() => readWeightInto(src, 'w', [3, 2], { dtype: 'float16', data })).toThrow(/'w' has shape \[2, 3\]/);
  });
});
