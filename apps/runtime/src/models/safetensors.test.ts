import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { f32ToF16 } from '../onnx/float16.ts';
import { encodeSafetensors, SafetensorsFile } from './safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdflow-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A safetensors file with the same values as F16 and BF16 tensors. */
function halfFile(path: string, values: number[], shape = [values.length]): void {
  const f16 = f32ToF16(Float32Array.from(values));
  const bf16 = Uint16Array.from(new Uint32Array(Float32Array.from(values).buffer), (x) => x >>> 16);
  writeFileSync(
    path,
    encodeSafetensors({ h: { dims: shape, data: f16, dtype: 'F16' }, b: { dims: shape, data: bf16, dtype: 'BF16' } }),
  );
}

describe('SafetensorsFile', () => {
  it('reads F32, I64, F16 and BF16 tensors at their offsets', () => {
    const p = join(dir, 'a.safetensors');
    writeFileSync(
      p,
      encodeSafetensors({
        w: { dims: [2, 2], data: Float32Array.from([1, -2, 3.5, 4]) },
        ids: { dims: [3], data: BigInt64Array.from([1n, 49407n, -1n]) },
      }),
    );
    const f = SafetensorsFile.open(p);
    expect(f.entries.get('w')?.shape).toEqual([2, 2]);
    expect(Array.from(f.readFloat32('w'))).toEqual([1, -2, 3.5, 4]);
    expect(Array.from(f.readInt64('ids'))).toEqual([1n, 49407n, -1n]);
    const h = join(dir, 'h.safetensors');
    halfFile(h, [0.5, -1.25, 1024, 3]);
    const hf = SafetensorsFile.open(h);
    expect(Array.from(hf.readFloat32('h'))).toEqual([0.5, -1.25, 1024, 3]);
    expect(Array.from(hf.readFloat32('b'))).toEqual([0.5, -1.25, 1024, 3]);
  });

  it('reads a tensor into a float16 or float32 buffer, transposed when asked', () => {
    const values = [0.5, -1.25, 1024, 3, -0.75, 2]; // [2, 3]
    const transposed = [0.5, 3, -1.25, -0.75, 1024, 2];
    const h = join(dir, 'h23.safetensors');
    halfFile(h, values, [2, 3]);
    const p = join(dir, 'f23.safetensors');
    writeFileSync(p, encodeSafetensors({ f: { dims: [2, 3], data: Float32Array.from(values) } }));
    const hf = SafetensorsFile.open(h);
    const ff = SafetensorsFile.open(p);
    const half = (tensor: 'h' | 'b' | 'f', transpose: boolean) => {
      const data = new Uint16Array(6);
      (tensor === 'f' ? ff : hf).readInto(tensor, { dtype: 'float16', data }, { transpose });
      return Array.from(data);
    };
    const float = (tensor: 'h' | 'b' | 'f', transpose: boolean) => {
      const data = new Float32Array(6);
      (tensor === 'f' ? ff : hf).readInto(tensor, { dtype: 'float32', data }, { transpose });
      return Array.from(data);
    };
    const f16 = (v: number[]) => Array.from(f32ToF16(Float32Array.from(v)));
    for (const t of ['h', 'b', 'f'] as const) {
      expect(half(t, false)).toEqual(f16(values));
      expect(half(t, true)).toEqual(f16(transposed));
      expect(float(t, false)).toEqual(values);
      expect(float(t, true)).toEqual(transposed);
    }
    // F16 into float16 lands in the middle of a bigger buffer (a chunk) untouched around it
    const chunk = new Uint16Array(10).fill(7);
    hf.readInto('h', { dtype: 'float16', data: chunk.subarray(2, 8) });
    expect(Array.from(chunk)).toEqual([7, 7, ...f16(values), 7, 7]);
    expect(() => hf.readInto('h', { dtype: 'float16', data: new Uint16Array(5) })).toThrow(
      `${h}: tensor 'h' has 6 elements but its buffer holds 5`,
    );
  });

  it('names the file when it is truncated', () => {
    const bytes = encodeSafetensors({ w: { dims: [64], data: new Float32Array(64) } });
    const p = join(dir, 'trunc.safetensors');
    writeFileSync(p, bytes.subarray(0, bytes.length - 10));
    expect(() => SafetensorsFile.open(p)).toThrow(`${p}: truncated safetensors file: tensor 'w'`);
    writeFileSync(p, bytes.subarray(0, 20));
    expect(() => SafetensorsFile.open(p)).toThrow(`${p}: truncated safetensors file`);
  });

  it('names the file when the header is bad or the file is missing', () => {
    const p = join(dir, 'bad.safetensors');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(6n);
    writeFileSync(p, Buffer.concat([len, Buffer.from('{nope}')]));
    expect(() => SafetensorsFile.open(p)).toThrow(`${p}: bad safetensors header`);
    expect(() => SafetensorsFile.open(join(dir, 'none.safetensors'))).toThrow(
      /none\.safetensors: cannot open safetensors file \(ENOENT\)/,
    );
  });
});
