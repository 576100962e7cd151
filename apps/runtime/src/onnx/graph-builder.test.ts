import { describe, expect, it } from 'vitest';
import { MemorySource } from '../models/memory-source.ts';
import { f32ToF16 } from './float16.ts';
import { GraphBuilder } from './graph-builder.ts';
import { createSession } from './session.ts';

// Usage example for builder authors: one linear layer whose weight lives in external data.
describe('GraphBuilder', () => {
  const w = Float32Array.from([1, 2, 3, 4, 5, 6]); // torch layout [out=3, in=2]
  const bias = Float32Array.from([0.5, -0.5, 1]);
  const weights = new MemorySource({ 'fc.weight': { dims: [3, 2], data: w }, 'fc.bias': { dims: [3], data: bias } });

  it('builds a MatMul with external-data weights that ONNX Runtime runs', async () => {
    const b = new GraphBuilder({ name: 'linear', precision: 'fp32', weights });
    const x = b.inputFloat('x', ['batch', 2]);
    b.outputFloat(b.linear(x, 'fc', 2, 3), 'y', ['batch', 3]);
    const built = b.build();
    expect(built.externalData.map((f) => f.path)).toEqual(['model.onnx_data']);
    const s = await createSession(built, { device: 'cpu' });
    const { y } = await s.run({ x: { dims: [2, 2], data: Float32Array.from([1, 1, 0, 2]) } });
    await s.release();
    expect(y?.dims).toEqual([2, 3]);
    expect(Array.from(y?.data ?? [])).toEqual([3.5, 6.5, 12, 4.5, 7.5, 13]);
  });

  it('splits external data into chunks and stores fp16 weights', async () => {
    const b = new GraphBuilder({ name: 'chunks', precision: 'fp16', weights, chunkBytes: 8 });
    const x = b.inputFloat('x', [1, 2]);
    b.outputFloat(b.linear(x, 'fc', 2, 3), 'y', [1, 3]);
    const built = b.build();
    expect(built.externalData.length).toBe(2);
    const s = await createSession(built, { device: 'cpu' });
    const { y } = await s.run({ x: { dims: [1, 2], data: Float32Array.from([1, 1]) } });
    await s.release();
    expect(Array.from(y?.data ?? [])).toEqual([3.5, 6.5, 12]);
  });

  it('writes weights in place into chunks (weightWith, weightFromArray) that ONNX Runtime reads', async () => {
    const b = new GraphBuilder({ name: 'inplace', precision: 'fp16', weights, chunkBytes: 16 });
    const x = b.inputFloat('x', [1, 2]);
    const a = b.weightWith('a', [2, 2], (dst) => {
      if (dst.dtype !== 'float16') throw new Error('expected float16 storage');
      dst.data.set(f32ToF16(Float32Array.from([1, 0, 0, 2])));
    });
    const c = b.weightFromArray('c', Float32Array.from([0.25, -0.5]), [2]);
    b.outputFloat(b.op1('Add', [b.op1('MatMul', [x, a]), c]), 'y', [1, 2]);
    const built = b.build();
    expect(built.externalData.map((f) => f.data.byteLength)).toEqual([8, 4]);
    const s = await createSession(built, { device: 'cpu' });
    const { y } = await s.run({ x: { dims: [1, 2], data: Float32Array.from([3, 4]) } });
    await s.release();
    expect(Array.from(y?.data ?? [])).toEqual([3.25, 7.5]);
    expect(() => b.weightFromArray('d', new Float32Array(3), [2])).toThrow(/'d' has 3 values for dims \[2\]/);
  });

  it('rejects a weight whose shape disagrees, naming the tensor', () => {
    const b = new GraphBuilder({ name: 'bad', precision: 'fp32', weights });
    expect(() => b.param('fc.weight', [2, 3])).toThrow(/fc\.weight.*\[3, 2\].*\[2, 3\]/);
  });
});

describe('session feeds', () => {
  it('converts float32 / int64 feeds to the types the graph declares', async () => {
    const b = new GraphBuilder({ name: 'types', precision: 'fp32', weights: new MemorySource({}) });
    const half = b.input('h', 'float16', [2]);
    const i32 = b.input('i', 'int32', [2]);
    b.output(b.op1('Add', [b.cast(half, 'float32'), b.cast(i32, 'float32')]), 'y', 'float32', [2]);
    const s = await createSession(b.build(), { device: 'cpu' });
    expect(s.inputTypes).toEqual({ h: 'float16', i: 'int32' });
    const { y } = await s.run({
      h: { dims: [2], data: Float32Array.from([0.5, 1.5]) },
      i: { dims: [2], data: BigInt64Array.from([3n, -4n]), dtype: 'int64' },
    });
    await s.release();
    expect(Array.from(y?.data ?? [])).toEqual([3.5, -2.5]);
  });
});

describe('SDFLOW_ORT_OPTIONS', () => {
  const build = () => {
    const b = new GraphBuilder({ name: 'env', precision: 'fp32', weights: new MemorySource({}) });
    const x = b.inputFloat('x', [1, 2]);
    b.outputFloat(b.op1('Relu', [x]), 'y', [1, 2]);
    return b.build();
  };

  it('merges session options from the environment, and names the variable when it is not a JSON object', async () => {
    const saved = process.env.SDFLOW_ORT_OPTIONS;
    try {
      process.env.SDFLOW_ORT_OPTIONS = '{"enableMemPattern": false, "executionMode": "sequential"}';
      const s = await createSession(build(), { device: 'cpu' });
      const { y } = await s.run({ x: { dims: [1, 2], data: Float32Array.from([-1, 2]) } });
      await s.release();
      expect(Array.from(y?.data ?? [])).toEqual([0, 2]);
      process.env.SDFLOW_ORT_OPTIONS = '{"executionMode": "sideways"}';
      await expect(createSession(build(), { device: 'cpu' })).rejects.toThrow(/executionMode/);
      process.env.SDFLOW_ORT_OPTIONS = '[1]';
      await expect(createSession(build(), { device: 'cpu' })).rejects.toThrow(
        /SDFLOW_ORT_OPTIONS must be a JSON object/,
      );
    } finally {
      if (saved === undefined) delete process.env.SDFLOW_ORT_OPTIONS;
      else process.env.SDFLOW_ORT_OPTIONS = saved;
    }
  });
});
