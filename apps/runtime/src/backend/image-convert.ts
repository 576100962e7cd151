import type { Tensor } from '@sdflow/nodes/tensor.ts';

// Decoder output NCHW in about [-1, 1] -> NHWC in [0, 1], as diffusers' (x / 2 + 0.5).clamp(0, 1) (float32).

export function decodedToImages(decoded: Tensor): Tensor {
  const [b, c, h, w] = decoded.dims as [number, number, number, number];
  if (c !== 3) throw new Error(`decoder output has ${c} channels, expected 3 (RGB)`);
  const plane = h * w;
  const out = new Float32Array(b * plane * 3);
  for (let n = 0; n < b; n++) {
    for (let ch = 0; ch < 3; ch++) {
      const src = (n * 3 + ch) * plane;
      for (let p = 0; p < plane; p++) {
        const v = Math.fround(Math.fround(decoded.data[src + p]! / 2) + 0.5);
        out[(n * plane + p) * 3 + ch] = v < 0 ? 0 : Math.min(v, 1);
      }
    }
  }
  return { dims: [b, h, w, 3], data: out };
}

/** Latents in UNet space -> decoder input: (x / scaling_factor) + shift_factor. */
export function unscaleLatents(latents: Tensor, scalingFactor: number, shiftFactor: number): Tensor {
  const s = Math.fround(scalingFactor);
  return { dims: [...latents.dims], data: latents.data.map((v) => Math.fround(Math.fround(v / s) + shiftFactor)) };
}

/** Rows [from, to) of a batched tensor. */
export function batchSlice(t: Tensor, from: number, to: number): Tensor {
  const per = t.data.length / t.dims[0]!;
  return { dims: [to - from, ...t.dims.slice(1)], data: t.data.slice(from * per, to * per) };
}

export function concatBatch(parts: readonly Tensor[]): Tensor {
  const first = parts[0]!;
  const data = new Float32Array(parts.reduce((a, p) => a + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { dims: [parts.reduce((a, p) => a + p.dims[0]!, 0), ...first.dims.slice(1)], data };
}
