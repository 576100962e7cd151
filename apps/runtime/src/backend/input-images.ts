import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { LoadImageRequest } from '@sdflow/nodes/backend.ts';
import type { Images } from '@sdflow/nodes/values.ts';
import sharp from 'sharp';

// Load Image: files only inside the input folder (links resolved and checked), PNG / JPEG / WebP decoded by sharp
// to 8-bit sRGB, then as diffusers' VaeImageProcessor reads a PIL image: uint8 / 255 in float32, NHWC.

const FORMATS = new Set(['png', 'jpeg', 'webp']);

export class InputImages {
  constructor(readonly dir: string | undefined) {}

  async load(req: Omit<LoadImageRequest, 'signal'>): Promise<Images> {
    const name = req.file;
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
    if (meta.hasAlpha && !req.allowAlpha) {
      throw new Error(`"${name}" has an alpha channel: set alpha to "ignore" to drop it, or save it without one`);
    }
    let img = sharp(file).rotate().removeAlpha().toColourspace('srgb');
    if (req.fit !== 'none') {
      const fit = req.fit === 'resize' ? 'fill' : req.fit === 'crop-center' ? 'cover' : 'contain';
      img = img.resize(req.width, req.height, {
        fit,
        position: 'centre',
        background: { r: 0, g: 0, b: 0 },
        kernel: 'lanczos3',
      });
    }
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`"${name}": decoded to ${info.channels} channels, expected RGB`);
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = (data[i] as number) / 255;
    return { images: { dims: [1, info.height, info.width, 3], data: out } };
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
