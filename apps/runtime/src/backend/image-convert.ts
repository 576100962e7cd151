import type { Tensor } from '@sdflow/nodes/tensor.ts';

// Decoder output NCHW in about [-1, 1] -> NHWC in [0, 1], as diffusers' (x / 2 + 0.5).clamp(0, 1) (float32).

/** One decoder output, or its batch in parts (sliced decodes), into one NHWC image batch. */
export function decodedToImages(decoded: Tensor | readonly Tensor[]): Tensor {
  const parts = Array.isArray(decoded) ? (decoded as readonly Tensor[]) : [decoded as Tensor];
  if (parts.length === 0) throw new Error('decodedToImages: no decoder output');
  const [, , h, w] = (parts[0] as Tensor).dims as [number, number, number, number];
  const plane = h * w;
  const batch = parts.reduce((a, p) => a + (p.dims[0] ?? 0), 0);
  const out = new Float32Array(batch * plane * 3);
  let n = 0;
  for (const part of parts) {
    const [b, pc, ph, pw] = part.dims as [number, number, number, number];
    if (pc !== 3) throw new Error(`decoder output has ${pc} channels, expected 3 (RGB)`);
    if (ph !== h || pw !== w) throw new Error(`decoder outputs of ${ph}x${pw} and ${h}x${w} in one batch`);
    for (let i = 0; i < b; i++, n++) {
      for (let ch = 0; ch < 3; ch++) {
        const src = part.data.subarray((i * 3 + ch) * plane, (i * 3 + ch + 1) * plane);
        for (let p = 0, o = n * plane * 3 + ch; p < plane; p++, o += 3) out[o] = unit(src[p] as number);
      }
    }
  }
  return { dims: [batch, h, w, 3], data: out };
}

let scratch = new Float32Array(0);

/** decodedToImages for one decoder output whose buffer is the caller's to give up: the images are written over it,
 *  one image at a time through a kept scratch copy (a fresh 50 MB array for a 4-image 1024x1024 batch costs more
 *  in page faults than the conversion itself). Undefined where a value is NaN or infinite (an fp16 decoder that
 *  overflowed): the buffer is spent then too. */
export function decodedToImagesInPlace(decoded: Tensor): Tensor | undefined {
  const [b, c, h, w] = decoded.dims as [number, number, number, number];
  if (c !== 3) throw new Error(`decoder output has ${c} channels, expected 3 (RGB)`);
  const plane = h * w;
  if (scratch.length < 3 * plane) scratch = new Float32Array(3 * plane);
  const data = decoded.data;
  // x - x is 0 for every finite x and NaN for NaN and infinities: one sum tells, in the loop that reads them anyway
  let nonFinite = 0;
  for (let i = 0; i < b; i++) {
    const base = i * 3 * plane;
    scratch.set(data.subarray(base, base + 3 * plane));
    for (let p = 0, o = base; p < plane; p++, o += 3) {
      const r = scratch[p] as number;
      const g = scratch[plane + p] as number;
      const bl = scratch[2 * plane + p] as number;
      nonFinite += r - r + (g - g) + (bl - bl);
      data[o] = unit(r);
      data[o + 1] = unit(g);
      data[o + 2] = unit(bl);
    }
  }
  return nonFinite === 0 ? { dims: [b, h, w, 3], data } : undefined;
}

/** x / 2 + 0.5 clamped to [0, 1]: x * 0.5 is exact and the sum is rounded to float32 by the store, as torch's
 *  float32 (x / 2 + 0.5) */
function unit(x: number): number {
  const v = x * 0.5 + 0.5;
  return v < 0 ? 0 : Math.min(v, 1);
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
