import { describe, expect, it } from 'vitest';
import { deviceTensors } from './device-tensors.ts';

// The denoising loop's tensors on the CPU (CUDA's are cudaMalloc buffers; the GPU sittings in BENCHMARKS.md run
// them): what is written reads back, bad writes and freed tensors name the owner.
describe('deviceTensors', () => {
  it('reads back what was written, as a copy', () => {
    const tensors = deviceTensors({ device: 'cpu', label: 'unet' });
    try {
      const t = tensors.alloc([2, 3]);
      expect(t.dims).toEqual([2, 3]);
      tensors.write(t, Float32Array.from([1, 2, 3, 4, 5, 6]));
      const back = tensors.read(t);
      expect([...back]).toEqual([1, 2, 3, 4, 5, 6]);
      back[0] = 9;
      expect(tensors.read(t)[0]).toBe(1);
    } finally {
      tensors.release();
    }
  });

  it('names the owner when a write has the wrong size or the tensor was freed', () => {
    const tensors = deviceTensors({ device: 'cpu', label: 'unet' });
    const t = tensors.alloc([4]);
    expect(() => tensors.write(t, new Float32Array(3))).toThrow(/unet: a tensor on cpu: writing 3 values into \[4\]/);
    tensors.free(t);
    expect(() => tensors.read(t)).toThrow(/unet: a tensor on cpu: not a tensor of these/);
    tensors.release();
  });
});
