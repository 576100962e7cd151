import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToF16, fromHalfBits, toHalfBits } from './float16.ts';

describe('float16', () => {
  it('rounds to nearest even and handles specials', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBe(0x7c00); // rounds up to inf
    expect(toHalfBits(1e9)).toBe(0x7c00);
    expect(toHalfBits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(toHalfBits(2 ** -24)).toBe(1); // smallest subnormal
    expect(toHalfBits(2 ** -26)).toBe(0);
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(fromHalfBits(0x3555)).toBeCloseTo(0.33325, 5);
  });

  it('round-trips every finite half value', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i).filter((h) => (h & 0x7c00) !== 0x7c00);
    expect(f32ToF16(f16ToF32(all))).toEqual(all);
  });

  it('widens bfloat16', () => {
    expect(Array.from(bf16ToF32(Uint16Array.from([0x3f80, 0xc040])))).toEqual([1, -3]);
  });
});

describe('f32ToF16 (bulk path)', () => {
  it('agrees with toHalfBits on random and boundary values', () => {
    const vals = Float32Array.from(
      { length: 20000 },
      (_, i) => ((Math.sin(i * 12.9898) * 43758.5453) % 70000) * 2 ** ((i % 40) - 20),
    );
    vals.set([0, -0, 65504, 65519.99, 65520, 6.1e-5, 6.0e-5, 1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 2 ** -11)]);
    expect(Array.from(f32ToF16(vals))).toEqual(Array.from(vals, (v) => toHalfBits(v)));
  });
});
