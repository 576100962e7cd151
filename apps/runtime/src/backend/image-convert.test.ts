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
    expect(got.dims).toEqual(want.dims);
    expect(got.data).toBe(copy);
    expect([...got.data]).toEqual([...want.data]);
    expect(() => decodedToImagesInPlace({ dims: [1, 4, 2, 2], data: new Float32Array(16) })).toThrow(/4 channels/);
  });
});
