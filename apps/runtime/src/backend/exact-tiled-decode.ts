import type { Tensor } from '@sdflow/nodes/tensor.ts';
import type { Feed } from '../onnx/session.ts';
import { throwIfAborted } from './abort.ts';
import type { DecoderSegment, TiledDecoderPlan } from './tiled-vae-graphs.ts';

// Exact tiled VAE decode: the head runs whole at latent resolution; every later segment runs tile by tile (tiles of
// tileSize pixels at the output, proportionally smaller at lower resolutions) with a 1-pixel halo, and its GroupNorm
// uses statistics of the whole activation (kept in host memory). Equal to the plain decode up to float rounding.

export type SegmentRunner = (
  name: string,
  build: () => ReturnType<DecoderSegment['build']>,
  feeds: Record<string, Feed>,
) => Promise<Tensor>;

/** Per (batch, group) mean and 1/sqrt(var + eps) over a whole [B, C, H, W] activation (double accumulation). */
export function groupStats(x: Tensor, groups: number, eps: number): { mean: Tensor; rstd: Tensor } {
  const [b, c, h, w] = x.dims as [number, number, number, number];
  const per = (c / groups) * h * w;
  const mean = new Float32Array(b * groups);
  const rstd = new Float32Array(b * groups);
  for (let i = 0; i < b * groups; i++) {
    const slice = x.data.subarray(i * per, (i + 1) * per);
    let s = 0;
    for (let k = 0; k < per; k++) s += slice[k]!;
    const m = s / per;
    let v = 0;
    for (let k = 0; k < per; k++) v += (slice[k]! - m) ** 2;
    mean[i] = m;
    rstd[i] = 1 / Math.sqrt(v / per + eps);
  }
  return { mean: { dims: [b, groups], data: mean }, rstd: { dims: [b, groups], data: rstd } };
}

function crop(t: Tensor, y0: number, y1: number, x0: number, x1: number): Tensor {
  const [b, c, h, w] = t.dims as [number, number, number, number];
  const th = y1 - y0;
  const tw = x1 - x0;
  const out = new Float32Array(b * c * th * tw);
  for (let n = 0; n < b * c; n++) {
    for (let y = 0; y < th; y++) {
      const src = n * h * w + (y0 + y) * w + x0;
      out.set(t.data.subarray(src, src + tw), (n * th + y) * tw);
    }
  }
  return { dims: [b, c, th, tw], data: out };
}

function paste(dst: Tensor, src: Tensor, sy: number, sx: number, dy: number, dx: number, th: number, tw: number): void {
  const [b, c, H, W] = dst.dims as [number, number, number, number];
  const [, , h, w] = src.dims as [number, number, number, number];
  for (let n = 0; n < b * c; n++) {
    for (let y = 0; y < th; y++) {
      const from = n * h * w + (sy + y) * w + sx;
      dst.data.set(src.data.subarray(from, from + tw), n * H * W + (dy + y) * W + dx);
    }
  }
}

export async function exactTiledDecode(
  z: Tensor,
  plan: TiledDecoderPlan,
  run: SegmentRunner,
  opts: { tileSize: number; scaleFactor: number; signal: AbortSignal },
): Promise<Tensor> {
  const [, , lh] = z.dims as [number, number, number, number];
  let x = await run('head', plan.head.build, { latent_sample: z });
  let residual: Tensor | null = null;
  for (const seg of plan.segments) {
    throwIfAborted(opts.signal);
    const [b, , h, w] = x.dims as [number, number, number, number];
    const up = seg.kind === 'upsample' ? 2 : 1;
    const H = h * up;
    const W = w * up;
    // tiles of tileSize output pixels, scaled to this resolution
    const core = Math.max(8, Math.round((opts.tileSize * H) / (lh * opts.scaleFactor)));
    const stats = seg.kind === 'upsample' ? null : groupStats(x, plan.groups, plan.eps);
    const out: Tensor = { dims: [b, seg.outC, H, W], data: new Float32Array(b * seg.outC * H * W) };
    for (let Y0 = 0; Y0 < H; Y0 += core) {
      for (let X0 = 0; X0 < W; X0 += core) {
        throwIfAborted(opts.signal);
        const Y1 = Math.min(H, Y0 + core);
        const X1 = Math.min(W, X0 + core);
        // input region: the core mapped to the input resolution plus one pixel of halo, clipped to the image
        const iy0 = Math.max(0, Math.floor(Y0 / up) - 1);
        const iy1 = Math.min(h, Math.ceil(Y1 / up) + 1);
        const ix0 = Math.max(0, Math.floor(X0 / up) - 1);
        const ix1 = Math.min(w, Math.ceil(X1 / up) + 1);
        const feeds: Record<string, Feed> = { x: crop(x, iy0, iy1, ix0, ix1) };
        if (stats) Object.assign(feeds, stats);
        if (seg.kind === 'norm_conv_residual') feeds.res = crop(residual!, iy0, iy1, ix0, ix1);
        const y = await run(seg.name, seg.build, feeds);
        paste(out, y, Y0 - iy0 * up, X0 - ix0 * up, Y0, X0, Y1 - Y0, X1 - X0);
      }
    }
    // a resnet's first half keeps its input as the second half's residual
    if (seg.kind === 'norm_conv') residual = x;
    x = out;
  }
  return x;
}
