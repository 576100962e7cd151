import { describe, expect, it } from 'vitest';
import { distinctBuffers, pinHostMemory } from './host-pinning.ts';
import { Slabs } from './stream-weights.ts';

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
