import { describe, expect, it } from 'vitest';
import { distinctBuffers, pinHostMemory } from './host-pinning.ts';

describe('host pinning', () => {
  it('locks each buffer once, however many weights view it', () => {
    const chunk = new ArrayBuffer(1024);
    const own = new Float32Array(8);
    const views = [new Uint16Array(chunk, 0, 64), new Uint16Array(chunk, 128, 64), own, new Uint8Array(0)];
    expect(distinctBuffers(views)).toEqual([chunk, own.buffer]);
  });

  it('without a usable CUDA runtime says why instead of throwing (this machine has no GPU)', () => {
    const r = pinHostMemory([new Float32Array(1024)]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/cudaHostRegister of 4096 bytes failed: cuda\w+|no CUDA runtime library/);
  });
});
