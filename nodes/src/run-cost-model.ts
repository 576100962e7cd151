import type { ImageSize, NodeCost } from './define.ts';

// Rough SDXL figures behind the node types' cost estimates (BENCHMARKS.md, H200, fp16 UNet, fp32 VAE): the point is
// to refuse runs that are tens of times too big before they start, not to predict a peak to the megabyte.

/** UNet activations per latent pixel per row (an image, twice under CFG): about 2 GiB for 4 images at 1024². */
const UNET_BYTES_PER_LATENT_PIXEL = 16 * 1024;
/** Full VAE decode per output pixel of each image decoded at once: about 4 GiB for one 1024² image. */
const VAE_BYTES_PER_PIXEL = 4 * 1024;
/** TAESD decode per output pixel (it decodes one image at a time). */
const TAESD_BYTES_PER_PIXEL = 512;
/** The latent is an eighth of the image each way (SDXL's VAE scale factor). */
const LATENT_SCALE = 8;
const REFERENCE_PIXELS = 1024 * 1024;

const pixels = (s: ImageSize) => s.width * s.height;

export function unetCost(latent: ImageSize, steps: number, cfg: boolean): NodeCost {
  const rows = latent.batch * (cfg ? 2 : 1);
  const latentPixels = pixels(latent) / (LATENT_SCALE * LATENT_SCALE);
  return {
    latent,
    bytes: rows * latentPixels * UNET_BYTES_PER_LATENT_PIXEL,
    work: (rows * steps * pixels(latent)) / REFERENCE_PIXELS,
    what: `UNet activations for ${latent.batch} ${latent.width}x${latent.height} image${latent.batch === 1 ? '' : 's'}${cfg ? ' (x2 for CFG)' : ''}`,
  };
}

export function vaeDecodeCost(
  latent: ImageSize,
  p: { slicing: boolean; tiling: boolean; tileSize: number; tileOverlap: number },
): NodeCost {
  const atOnce = p.slicing ? 1 : latent.batch;
  const area = p.tiling ? Math.min(pixels(latent), (p.tileSize + p.tileOverlap) ** 2) : pixels(latent);
  const how = p.tiling ? `in ${p.tileSize}px tiles` : p.slicing ? 'one at a time' : 'all at once';
  return {
    // the activations of what is decoded at once, plus every image's float pixels
    bytes: atOnce * area * VAE_BYTES_PER_PIXEL + latent.batch * pixels(latent) * 3 * 4,
    what: `VAE decode of ${latent.batch} ${latent.width}x${latent.height} image${latent.batch === 1 ? '' : 's'} ${how}`,
  };
}

export function tinyVaeDecodeCost(latent: ImageSize): NodeCost {
  return {
    bytes: pixels(latent) * TAESD_BYTES_PER_PIXEL,
    what: `tiny VAE decode of ${latent.width}x${latent.height} images`,
  };
}
