import { describe, expect, it } from 'vitest';
import { decodedToImages, decodedToImagesInPlace } from './image-convert.ts';
import { seededRandom } from './testing/seeded-random.ts';

describe('decoder output to images', () => {
  it('in place gives the same images, over the decoder output buffer', () => {
    const r = seededRandom(3);
    const dims = [2, 3, 5, 7];
    const data = Float32Array.from({ length: 2 * 3 * 5 * 7 }, () => (r.next() * 2 - 1) * 1.5);
    const want = decodedToImages({ dims, data });
    expect(want.dims).toEqual([2, 5, 7, 3]);
    // pixel (1, 2, 3) of image 1: its red, green and blue planes, as (x / 2 + 0.5) clamped
    const at = (c: number) => Math.min(1, Math.max(0, Math.fround(data[((1 * 3 + c) * 5 + 2) * 7 + 3]! * 0.5 + 0.5)));
    expect([0, 1, 2].map((c) => want.data[((1 * 5 + 2) * 7 + 3) * 3 + c])).toEqual([at(0), at(1), at(2)]);
    const copy = Float32Array.from(data);
    const got = decodedToImagesInPlace({ dims, data: copy });
    if (!got) throw new Error('finite values were taken for non-finite');
    expect(got.dims).toEqual(want.dims);
    expect(got.data).toBe(copy);
    expect([...got.data]).toEqual([...want.data]);
    expect(() => decodedToImagesInPlace({ dims: [1, 4, 2, 2], data: new Float32Array(16) })).toThrow(/4 channels/);
  });

  it('in place tells an output with NaN or an infinity anywhere (an fp16 decoder that overflowed)', () => {
    const dims = [2, 3, 4, 4];
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      for (const at of [0, 47, 95]) {
        const data = new Float32Array(96).fill(0.25);
        data[at] = bad;
        expect(decodedToImagesInPlace({ dims, data }), `${bad} at ${at}`).toBeUndefined();
      }
    // large but finite values are images (clamped), not overflow
    const big = new Float32Array(96).fill(3e38);
    expect(decodedToImagesInPlace({ dims, data: big })?.data.every((v) => v === 1)).toBe(true);
  });
});
