import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { LoadImageRequest, LoadMaskRequest } from '@sdflow/nodes/backend.ts';
import type { Images, Mask } from '@sdflow/nodes/values.ts';
import sharp from 'sharp';

// Load Image and Load Mask: files only inside the input folder (links resolved and checked), PNG / JPEG / WebP decoded by sharp
// to 8-bit sRGB, then as diffusers' VaeImageProcessor reads a PIL image: uint8 / 255 in float32, NHWC.

const FORMATS = new Set(['png', 'jpeg', 'webp']);

export class InputImages {
  constructor(readonly dir: string | undefined) {}

  async load(req: Omit<LoadImageRequest, 'signal'>): Promise<Images> {
    const { file, meta } = await this.open(req.file);
    if (meta.hasAlpha && !req.allowAlpha) {
      throw new Error(`"${req.file}" has an alpha channel: set alpha to "ignore" to drop it, or save it without one`);
    }
    const { data, info } = await fitted(sharp(file).rotate().removeAlpha().toColourspace('srgb'), req);
    if (info.channels !== 3) throw new Error(`"${req.file}": decoded to ${info.channels} channels, expected RGB`);
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = (data[i] as number) / 255;
    return { images: { dims: [1, info.height, info.width, 3], data: out } };
  }

  /** luminance: PIL's convert('L') of the RGB (ITU-R 601-2 in 16-bit fixed point), as diffusers' mask_processor;
   *  alpha: 1 - alpha. Values / 255, [1, H, W]. */
  async loadMask(req: Omit<LoadMaskRequest, 'signal'>): Promise<Mask> {
    const { file, meta } = await this.open(req.file);
    if (req.channel === 'alpha' && !meta.hasAlpha) {
      throw new Error(`"${req.file}" has no alpha channel: use channel "luminance", or save it with one`);
    }
    const { data, info } = await fitted(sharp(file).rotate().toColourspace('srgb').ensureAlpha(), req);
    if (info.channels !== 4) throw new Error(`"${req.file}": decoded to ${info.channels} channels, expected RGBA`);
    const out = new Float32Array(info.width * info.height);
    for (let p = 0; p < out.length; p++) {
      const [r, g, b, a] = [data[4 * p], data[4 * p + 1], data[4 * p + 2], data[4 * p + 3]] as number[];
      const v = req.channel === 'alpha' ? 255 - a! : (r! * 19595 + g! * 38470 + b! * 7471 + 0x8000) >> 16;
      out[p] = v / 255;
    }
    return { mask: { dims: [1, info.height, info.width], data: out } };
  }

  /** The checked real path of an image in the input folder and its metadata. */
  private async open(name: string): Promise<{ file: string; meta: sharp.Metadata }> {
    const file = await this.resolve(name);
    let meta: sharp.Metadata;
    try {
      meta = await sharp(file).metadata();
    } catch {
      throw new Error(`"${name}" is not an image sharp can read (PNG, JPEG or WebP)`);
    }
    if (!meta.format || !FORMATS.has(meta.format)) {
      throw new Error(`"${name}" is ${meta.format ?? 'of an unknown format'}, not a PNG, JPEG or WebP`);
    }
    return { file, meta };
  }

  /** The real path of `name` under the input folder; errors name the file as given, relative to the folder. */
  private async resolve(name: string): Promise<string> {
    if (!this.dir) throw new Error('this runtime has no input folder (sdflow run --input DIR)');
    if (path.isAbsolute(name) || name.split(/[\\/]/).some((s) => s === '' || s === '.' || s === '..')) {
      throw new Error(`"${name}" is not a path inside the input folder`);
    }
    let root: string;
    try {
      root = await realpath(this.dir);
    } catch {
      throw new Error(`no input folder (looked for ${this.dir}): create it or pass --input DIR`);
    }
    let file: string;
    try {
      file = await realpath(path.join(root, name));
    } catch {
      throw new Error(`no file "${name}" in the input folder`);
    }
    // a link planted in the input folder must not read a file elsewhere
    if (!file.startsWith(root + path.sep)) throw new Error(`"${name}" leads outside the input folder`);
    return file;
  }
}

/** The fit mode applied (Lanczos), then 8-bit raw pixels. */
function fitted(img: sharp.Sharp, req: Pick<LoadImageRequest, 'fit' | 'width' | 'height'>) {
  const fit = { none: undefined, resize: 'fill', 'crop-center': 'cover', pad: 'contain' } as const;
  const mode = fit[req.fit];
  const resized = mode
    ? img.resize(req.width, req.height, {
        fit: mode,
        position: 'centre',
        background: { r: 0, g: 0, b: 0, alpha: 1 },
        kernel: 'lanczos3',
      })
    : img;
  return resized.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
}
