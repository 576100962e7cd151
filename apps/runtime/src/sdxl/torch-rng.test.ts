import { describe, expect, it } from 'vitest';
import { readReferenceTensors } from './testing/references.ts';
import { TorchGenerator, torchRandn } from './torch-rng.ts';

const refs = readReferenceTensors('rng.safetensors');

function expectBitEqual(ours: Float32Array, ref: Float32Array) {
  expect(ours.length).toBe(ref.length);
  const a = new Uint32Array(ours.buffer, ours.byteOffset, ours.length);
  const b = new Uint32Array(ref.buffer, ref.byteOffset, ref.length);
  let mismatches = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) mismatches++;
  expect(mismatches).toBe(0);
}

describe('torch CPU randn', () => {
  for (const [key, seed] of [
    ['randn_seed0_1x4x16x16', 0],
    ['randn_seed1_1x4x16x16', 1],
    ['randn_seed42_1x4x16x16', 42],
    ['randn_seed123456789_1x4x16x16', 123456789],
    ['randn_seed0_1x4x128x128', 0],
    ['randn_seed0_7', 0],
  ] as const) {
    it(`${key} equals torch bit for bit`, () => {
      const ref = refs.get(key)!;
      expectBitEqual(torchRandn(ref.dims, seed), ref.data);
    });
  }

  it('two consecutive draws carry the generator state', () => {
    const ref = refs.get('randn_seed0_two_draws')!;
    const g = new TorchGenerator(0);
    const first = g.randn([1, 4, 16, 16]);
    const second = g.randn([1, 4, 16, 16]);
    const both = new Float32Array(first.length * 2);
    both.set(first);
    both.set(second, first.length);
    expectBitEqual(both, ref.data);
  });

  it('handles sizes that are not a multiple of 16 (last block redrawn)', () => {
    const out = torchRandn([1, 4, 5, 5], 3);
    expect(out.length).toBe(100);
    expect(out.every(Number.isFinite)).toBe(true);
  });
});
