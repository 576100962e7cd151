import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { VaeDecodeRequest } from '@sdflow/nodes/backend.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureDir, relativeError } from '../sdxl/testing/references.ts';
import { torchRandn } from '../sdxl/torch-rng.ts';
import { testBackends } from './testing/test-backends.ts';
import { decodeLatents, tileStarts } from './vae-decode.ts';

const work = mkdtempSync(path.join(tmpdir(), 'sdflow-vae-'));
const backends = testBackends(work, path.dirname(fixtureDir));
const backend = backends.create();
afterAll(() => backends.disposeAll());
const signal = new AbortController().signal;

describe('VAE decode options', () => {
  // 2 images of 40x40 latents (80x80 px at this fixture's factor 2), tiles of 48 px: 2x2 tiles at every resolution
  const dims = [2, 4, 40, 40];
  const latent = { samples: { dims, data: torchRandn(dims, 7) }, kind: 'image' as const };

  async function decode(opts: Partial<VaeDecodeRequest>) {
    const { vae } = await backend.loadModel({
      model: path.basename(fixtureDir),
      precision: 'fp32',
      device: 'cpu',
      offload: { mode: 'none', budgetMiB: 0 },
    });
    const progress: number[] = [];
    const out = await backend.vaeDecode({
      vae,
      latent,
      slicing: false,
      tiling: false,
      tileSize: 48,
      tileOverlap: 32,
      autoTiling: false,
      onProgress: (done) => progress.push(done),
      signal,
      ...opts,
    });
    return { images: out.images, progress };
  }

  it('slicing and tiling equal the plain decode within 1e-3', async () => {
    const plain = await decode({});
    const sliced = await decode({ slicing: true });
    const tiled = await decode({ tiling: true });
    expect(plain.images.dims).toEqual([2, 80, 80, 3]);
    expect(sliced.progress).toEqual([1, 2]);
    expect(relativeError(sliced.images.data, plain.images.data)).toBeLessThan(1e-3);
    // exact tiling (global GroupNorm statistics, halo tiles) agrees to ~2e-7
    expect(relativeError(tiled.images.data, plain.images.data)).toBeLessThan(1e-3);
    const slicedTiled = await decode({ slicing: true, tiling: true });
    expect(relativeError(slicedTiled.images.data, plain.images.data)).toBeLessThan(1e-3);
  });

  it('retries tiled when the plain decode runs out of memory', async () => {
    const z = { dims: [1, 4, 8, 8], data: new Float32Array(256).fill(0.5) };
    let calls = 0;
    const decoder = async (t: { dims: readonly number[]; data: Float32Array }) => {
      calls++;
      if (t.dims[2] === 8)
        throw new Error('vae_decoder: inference failed: Failed to allocate memory for requested buffer');
      const [b, , h, w] = t.dims as number[];
      return { dims: [b!, 3, h! * 2, w! * 2], data: new Float32Array(b! * 3 * h! * w! * 4).fill(0.25) };
    };
    const opts = {
      slicing: false,
      tiling: false,
      tileSize: 8,
      tileOverlap: 4,
      scaleFactor: 2,
      signal,
      onProgress: () => undefined,
    };
    const out = await decodeLatents(z, decoder, { ...opts, autoTiling: true });
    expect(calls).toBeGreaterThan(2);
    expect(out.dims).toEqual([1, 3, 16, 16]);
    expect(out.data.every((v) => Math.abs(v - 0.25) < 1e-6)).toBe(true);
    await expect(decodeLatents(z, decoder, { ...opts, autoTiling: false })).rejects.toThrow(/allocate/);
  });

  it('places blended tiles to cover the image', () => {
    expect(tileStarts(40, 24, 16)).toEqual([0, 8, 16]);
    expect(tileStarts(10, 24, 16)).toEqual([0]);
  });
});
