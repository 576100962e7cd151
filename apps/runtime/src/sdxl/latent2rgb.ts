import type { Tensor } from '@sdflow/nodes/tensor.ts';
import { tensor } from '@sdflow/nodes/tensor.ts';

// Nearly free previews: SDXL latents (UNet space) to RGB with a fitted linear map, at latent resolution.

const SDXL_FACTORS = [
  [0.3651, 0.4232, 0.4341],
  [-0.2533, -0.0042, 0.1068],
  [0.1076, 0.1111, -0.0362],
  [-0.3165, -0.2492, -0.2188],
];
const SDXL_BIAS = [0.1084, -0.0175, -0.0011];

/** Batch image `index` of [B, C, h, w] latents as NHWC RGB in [0, 1], shape [1, h, w, 3]. */
export function latentToRgb(latents: Tensor, index = 0): Tensor {
  const [, c, h, w] = latents.dims as [number, number, number, number];
  const plane = h * w;
  const base = index * c * plane;
  const out = new Float32Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < 3; k++) {
      let v: number;
      if (c === 4) {
        v = SDXL_BIAS[k]!;
        for (let ch = 0; ch < 4; ch++) v += latents.data[base + ch * plane + p]! * SDXL_FACTORS[ch]![k]!;
      } else {
        // other latent widths (test models): first channels as a rough colour
        v = 0.25 * latents.data[base + (k % c) * plane + p]!;
      }
      out[p * 3 + k] = Math.min(1, Math.max(0, (v + 1) / 2));
    }
  }
  return tensor([1, h, w, 3], out);
}
