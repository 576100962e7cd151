import type { Tensor } from '@sdflow/nodes/tensor.ts';
import { throwIfAborted } from './abort.ts';
import { batchSlice, concatBatch } from './image-convert.ts';

// VAE decode with slicing (one image per call), tiling and a retry tiled when a plain decode runs out of memory.
// Tiling is exact (exact-tiled-decode.ts) where the VAE's weights are at hand; for an ONNX-export VAE it falls back
// to overlapping latent tiles blended with feathered edges (approximate: GroupNorm and attention see one tile).

export interface DecodeOptions {
  readonly slicing: boolean;
  readonly tiling: boolean;
  readonly tileSize: number; // pixels
  readonly tileOverlap: number; // pixels
  readonly autoTiling: boolean;
  readonly scaleFactor: number;
  readonly signal: AbortSignal;
  readonly onProgress: (done: number, total: number) => void;
}

/** decode: decoder-space latents [b, C, h, w] -> [b, 3, h*f, w*f]. */
export type Decoder = (z: Tensor) => Promise<Tensor>;

const OUT_OF_MEMORY = /out of memory|failed to allocate|bad_alloc|alloc_failed|cannot allocate|allocation/i;

export function isOutOfMemory(e: unknown): boolean {
  return e instanceof Error && OUT_OF_MEMORY.test(e.message);
}

/** `tiled` decodes one chunk tile by tile (default: the feathered blend below). */
export async function decodeLatents(
  z: Tensor,
  decode: Decoder,
  o: DecodeOptions,
  tiled: Decoder = (chunk) => tiledDecode(chunk, decode, o),
): Promise<Tensor> {
  const batch = z.dims[0]!;
  const chunks = o.slicing ? Array.from({ length: batch }, (_, i) => [i, i + 1] as const) : [[0, batch] as const];
  const parts: Tensor[] = [];
  let done = 0;
  for (const [from, to] of chunks) {
    throwIfAborted(o.signal);
    const chunk = chunks.length === 1 ? z : batchSlice(z, from, to);
    let out: Tensor;
    if (o.tiling) {
      out = await tiled(chunk);
    } else {
      try {
        out = await decode(chunk);
      } catch (e) {
        if (!o.autoTiling || !isOutOfMemory(e)) throw e;
        out = await tiled(chunk);
      }
    }
    parts.push(out);
    done += to - from;
    o.onProgress(done, batch);
  }
  return parts.length === 1 ? parts[0]! : concatBatch(parts);
}

/** Tile origins along one axis: tiles of `tile` with stride tile - overlap, the last one flush with the end. */
export function tileStarts(size: number, tile: number, overlap: number): number[] {
  if (tile >= size) return [0];
  const stride = Math.max(1, tile - overlap);
  const starts: number[] = [];
  for (let s = 0; s + tile < size; s += stride) starts.push(s);
  starts.push(size - tile);
  return starts;
}

export async function tiledDecode(z: Tensor, decode: Decoder, o: DecodeOptions): Promise<Tensor> {
  const [b, , h, w] = z.dims as [number, number, number, number];
  const f = o.scaleFactor;
  const tile = Math.max(1, Math.round(o.tileSize / f));
  const overlap = Math.max(0, Math.min(tile - 1, Math.round(o.tileOverlap / f)));
  const ys = tileStarts(h, tile, overlap);
  const xs = tileStarts(w, tile, overlap);
  const H = h * f;
  const W = w * f;
  const acc = new Float32Array(b * 3 * H * W);
  const weight = new Float32Array(H * W);
  for (const y0 of ys) {
    for (const x0 of xs) {
      throwIfAborted(o.signal);
      const th = Math.min(tile, h - y0);
      const tw = Math.min(tile, w - x0);
      const piece = await decode(crop(z, y0, x0, th, tw));
      const ph = th * f;
      const pw = tw * f;
      // feather only edges that face a neighbouring tile
      const ramp = overlap * f;
      const wy = ramp1d(ph, ramp, y0 > 0, y0 + th < h);
      const wx = ramp1d(pw, ramp, x0 > 0, x0 + tw < w);
      for (let n = 0; n < b; n++) {
        for (let ch = 0; ch < 3; ch++) {
          const src = (n * 3 + ch) * ph * pw;
          const dst = (n * 3 + ch) * H * W;
          for (let y = 0; y < ph; y++) {
            for (let x = 0; x < pw; x++) {
              acc[dst + (y0 * f + y) * W + x0 * f + x]! += piece.data[src + y * pw + x]! * wy[y]! * wx[x]!;
            }
          }
        }
      }
      for (let y = 0; y < ph; y++)
        for (let x = 0; x < pw; x++) weight[(y0 * f + y) * W + x0 * f + x]! += wy[y]! * wx[x]!;
    }
  }
  for (let n = 0; n < b * 3; n++) {
    for (let p = 0; p < H * W; p++) acc[n * H * W + p] = acc[n * H * W + p]! / weight[p]!;
  }
  return { dims: [b, 3, H, W], data: acc };
}

function ramp1d(len: number, ramp: number, fadeIn: boolean, fadeOut: boolean): Float32Array {
  const out = new Float32Array(len).fill(1);
  if (ramp <= 0) return out;
  for (let i = 0; i < len; i++) {
    let v = 1;
    if (fadeIn) v = Math.min(v, (i + 0.5) / ramp);
    if (fadeOut) v = Math.min(v, (len - i - 0.5) / ramp);
    out[i] = Math.max(1e-3, v);
  }
  return out;
}

function crop(z: Tensor, y0: number, x0: number, th: number, tw: number): Tensor {
  const [b, c, h, w] = z.dims as [number, number, number, number];
  const out = new Float32Array(b * c * th * tw);
  for (let n = 0; n < b * c; n++) {
    for (let y = 0; y < th; y++) {
      const src = n * h * w + (y0 + y) * w + x0;
      out.set(z.data.subarray(src, src + tw), (n * th + y) * tw);
    }
  }
  return { dims: [b, c, th, tw], data: out };
}
