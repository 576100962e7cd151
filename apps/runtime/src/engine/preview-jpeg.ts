import type { Images } from '@sdflow/nodes/values.ts';
import sharp from 'sharp';

// Previews cross the thread boundary as 8-bit RGB (converted in the worker, synchronously, so a busy
// worker still sends them at once) and are JPEG-encoded on the main thread (a few KB per frame).

export interface RgbFrame {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

/** Batch image 0 of NHWC float [0, 1] as 8-bit RGB. */
export function toRgbFrame(image: Images): RgbFrame {
  const [, height = 0, width = 0, channels = 3] = image.images.dims;
  if (channels !== 3)
    throw new Error(`preview: expected NHWC with 3 channels, got dims [${image.images.dims.join(', ')}]`);
  const n = width * height * 3;
  const src = image.images.data;
  const rgb = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = src[i]!;
    rgb[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return { width, height, rgb };
}

export async function encodeJpeg(frame: RgbFrame, quality = 80): Promise<Uint8Array> {
  const { width, height, rgb } = frame;
  const data = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
