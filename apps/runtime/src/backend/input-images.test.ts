import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputImages } from './input-images.ts';
import { relativeToFolders } from './relative-paths.ts';

// Load Image's file access: only files inside the input folder, PNG / JPEG / WebP, alpha refused unless ignored, and
// the fit modes' sizes.

const work = mkdtempSync(path.join(tmpdir(), 'sdflow-inputs-'));
const dir = path.join(work, 'input');
const inputs = new InputImages(dir);
const base = { fit: 'none' as const, width: 8, height: 8, allowAlpha: false };

/** A w x h image whose pixel (x, y) is (x * 10, y * 10, 200), in the given format. */
async function write(name: string, w: number, h: number, format: 'png' | 'jpeg' | 'webp', channels: 3 | 4 = 3) {
  const px = Buffer.alloc(w * h * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * channels;
      px.set([x * 10, y * 10, 200, 255].slice(0, channels), o);
    }
  }
  const img = sharp(px, { raw: { width: w, height: h, channels } });
  const bytes = await (format === 'png'
    ? img.png()
    : format === 'jpeg'
      ? img.jpeg({ quality: 100 })
      : img.webp({ lossless: true })
  ).toBuffer();
  writeFileSync(path.join(dir, name), bytes);
}

beforeAll(async () => {
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  await write('a.png', 12, 6, 'png');
  await write('sub/b.webp', 6, 6, 'webp');
  await write('c.jpg', 16, 8, 'jpeg');
  await write('rgba.png', 4, 4, 'png', 4);
  writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
  writeFileSync(
    path.join(work, 'secret.png'),
    await sharp({ create: { width: 2, height: 2, channels: 3, background: '#fff' } })
      .png()
      .toBuffer(),
  );
  symlinkSync(path.join(work, 'secret.png'), path.join(dir, 'link.png'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('InputImages', () => {
  it('reads PNG exactly as uint8 / 255, RGB, NHWC, batch 1; WebP and JPEG too; subfolders allowed', async () => {
    const { images } = await inputs.load({ ...base, file: 'a.png' });
    expect(images.dims).toEqual([1, 6, 12, 3]);
    const at = (x: number, y: number) => Array.from(images.data.subarray((y * 12 + x) * 3, (y * 12 + x) * 3 + 3));
    expect(at(3, 2)).toEqual([30 / 255, 20 / 255, 200 / 255].map(Math.fround));
    expect((await inputs.load({ ...base, file: 'sub/b.webp' })).images.dims).toEqual([1, 6, 6, 3]);
    expect((await inputs.load({ ...base, file: 'c.jpg' })).images.dims).toEqual([1, 8, 16, 3]);
  });

  it('fits to width x height: resize, crop-center, pad (black borders)', async () => {
    for (const fit of ['resize', 'crop-center', 'pad'] as const) {
      const { images } = await inputs.load({ ...base, file: 'a.png', fit, width: 8, height: 8 });
      expect(images.dims, fit).toEqual([1, 8, 8, 3]);
    }
    const padded = await inputs.load({ ...base, file: 'a.png', fit: 'pad', width: 12, height: 12 });
    expect(Array.from(padded.images.data.subarray(0, 3))).toEqual([0, 0, 0]); // top-left is border
  });

  it('refuses an alpha channel unless told to ignore it', async () => {
    await expect(inputs.load({ ...base, file: 'rgba.png' })).rejects.toThrow('"rgba.png" has an alpha channel');
    const { images } = await inputs.load({ ...base, file: 'rgba.png', allowAlpha: true });
    expect(images.dims).toEqual([1, 4, 4, 3]);
  });

  it("reads masks: PIL's luma of the RGB (white = repaint), or 1 - alpha; refuses alpha where there is none", async () => {
    const lum = await inputs.loadMask({ ...base, file: 'a.png', channel: 'luminance' });
    expect(lum.mask.dims).toEqual([1, 6, 12]);
    // (30, 20, 200): (30 * 19595 + 20 * 38470 + 200 * 7471 + 0x8000) >> 16 = 44
    expect(lum.mask.data[2 * 12 + 3]).toBe(Math.fround(44 / 255));
    const alpha = await inputs.loadMask({ ...base, file: 'rgba.png', channel: 'alpha' });
    expect(Array.from(alpha.mask.data)).toEqual(new Array(16).fill(0)); // opaque: nothing to repaint
    await expect(inputs.loadMask({ ...base, file: 'a.png', channel: 'alpha' })).rejects.toThrow(
      '"a.png" has no alpha channel',
    );
    const fitted = await inputs.loadMask({ ...base, file: 'a.png', channel: 'luminance', fit: 'pad', width: 8 });
    expect(fitted.mask.dims).toEqual([1, 8, 8]);
  });

  it('names the file, relative to the input folder, for every refusal', async () => {
    await expect(inputs.load({ ...base, file: 'nope.png' })).rejects.toThrow('no file "nope.png" in the input folder');
    await expect(inputs.load({ ...base, file: 'notes.txt' })).rejects.toThrow('"notes.txt" is not an image');
    await expect(inputs.load({ ...base, file: 'link.png' })).rejects.toThrow(
      '"link.png" leads outside the input folder',
    );
    for (const file of ['../secret.png', '/etc/passwd', 'sub/../../secret.png']) {
      await expect(inputs.load({ ...base, file }), file).rejects.toThrow(
        `"${file}" is not a path inside the input folder`,
      );
    }
    const missing = new InputImages(path.join(work, 'absent'));
    const err = await missing.load({ ...base, file: 'a.png' }).catch((e: Error) => e.message);
    expect(relativeToFolders(String(err), [{ dir: path.join(work, 'absent'), label: 'input' }])).toBe(
      'no input folder (looked for input): create it or pass --input DIR',
    );
    await expect(new InputImages(undefined).load({ ...base, file: 'a.png' })).rejects.toThrow('no input folder');
  });
});
