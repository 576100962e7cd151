import { describe, expect, it } from 'vitest';
import { decodePreviewFrame, encodePreviewFrame } from './preview-frame.ts';

const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 255]);

describe('preview frames', () => {
  it('round-trips header and image bytes', () => {
    const bytes = encodePreviewFrame({ runId: 'run-7', nodeId: 'denoise', mime: 'image/png', step: 12 }, png);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('SDFP');
    expect(bytes.length).toBe(16 + 'run-7denoiseimage/png'.length + png.length);
    const r = decodePreviewFrame(bytes);
    expect(r).toEqual({
      ok: true,
      frame: { type: 'preview', runId: 'run-7', nodeId: 'denoise', mime: 'image/png', step: 12, image: png },
    });
  });

  it('decodes from an ArrayBuffer and from a view at an offset (as Node Buffers are)', () => {
    const bytes = encodePreviewFrame({ runId: 'é-ü', nodeId: 'n', mime: 'image/jpeg' }, png);
    const backing = new Uint8Array(bytes.length + 5);
    backing.set(bytes, 5);
    const fromView = decodePreviewFrame(backing.subarray(5));
    const fromBuffer = decodePreviewFrame(bytes.slice().buffer);
    for (const r of [fromView, fromBuffer]) {
      expect(r.ok && [r.frame.runId, r.frame.step, [...r.frame.image]]).toEqual(['é-ü', 0, [...png]]);
    }
  });

  it('refuses truncated, foreign and inconsistent frames with a reason', () => {
    const good = encodePreviewFrame({ runId: 'r', nodeId: 'n', mime: 'image/webp' }, png);
    const badMagic = good.slice();
    badMagic[0] = 0;
    const badVersion = good.slice();
    badVersion[4] = 9;
    const overlong = good.slice();
    overlong[7] = 200; // runId length past the end
    const badMime = encodePreviewFrame({ runId: 'r', nodeId: 'n', mime: 'image/png' }, png);
    badMime.set([0x74, 0x65, 0x78, 0x74, 0x2f], 16 + 2); // "text/" over "image"
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, 10), /too short/],
      [badMagic, /magic/],
      [badVersion, /version 9/],
      [overlong, /past the end/],
      [badMime, /mime/],
    ];
    for (const [bytes, reason] of cases) {
      const r = decodePreviewFrame(bytes);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(reason);
    }
  });

  it('validates the header when encoding', () => {
    expect(() => encodePreviewFrame({ runId: '', nodeId: 'n', mime: 'image/png' }, png)).toThrow();
    expect(() => encodePreviewFrame({ runId: 'r', nodeId: 'n', mime: 'text/html' as 'image/png' }, png)).toThrow();
  });
});
