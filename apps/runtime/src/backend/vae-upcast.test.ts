import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Precision } from '@sdflow/nodes/values.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureDir } from '../sdxl/testing/references.ts';
import { torchRandn } from '../sdxl/torch-rng.ts';
import { plainDecode, testBackends } from './testing/test-backends.ts';

// A VAE whose config does not ask for fp32 (force_upcast false, as the fp16-fix SDXL VAEs) decodes in fp16 under an
// fp16 model; where that overflows, the backend decodes again in fp32 instead of saving NaN images. Here the sdxl-tiny
// fixture with force_upcast turned off, once as it is and once with a weight past fp16's range.

const work = mkdtempSync(path.join(tmpdir(), 'sdflow-upcast-'));
const models = path.join(work, 'models');

/** The fixture under another name with force_upcast off, its VAE weights edited by `edit` (their bytes after the
 *  safetensors header). */
function variant(name: string, edit: (data: DataView, header: Record<string, { data_offsets: number[] }>) => void) {
  const folder = path.join(models, name);
  mkdirSync(folder, { recursive: true });
  for (const entry of readdirSync(fixtureDir))
    if (entry !== 'vae') symlinkSync(path.join(fixtureDir, entry), path.join(folder, entry));
  cpSync(path.join(fixtureDir, 'vae'), path.join(folder, 'vae'), { recursive: true });
  const configFile = path.join(folder, 'vae', 'config.json');
  writeFileSync(configFile, JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), force_upcast: false }));
  const weightsFile = path.join(folder, 'vae', 'diffusion_pytorch_model.safetensors');
  const bytes = readFileSync(weightsFile);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  edit(new DataView(bytes.buffer, bytes.byteOffset + 8 + n), header);
  writeFileSync(weightsFile, bytes);
  return name;
}

const plain = variant('sdxl-tiny-fp16-vae', () => undefined);
// one bias past fp16's largest value (65504): infinite in the fp16 graph, and in fp32 normalized away by the next
// group norm, as an overflowing activation of a real VAE would be
const overflows = variant('sdxl-tiny-overflow-vae', (data, header) => {
  const at = header['decoder.conv_in.bias']?.data_offsets[0];
  if (at === undefined) throw new Error('the fixture VAE has no decoder.conv_in.bias');
  data.setFloat32(at, 1e5, true);
});

const backends = testBackends(path.join(work, 'run'), models);
afterAll(async () => {
  await backends.disposeAll();
  rmSync(work, { recursive: true, force: true });
});
const signal = new AbortController().signal;

describe('VAE decode in fp16 that overflows', () => {
  const dims = [2, 4, 8, 8];
  const latent = { samples: { dims, data: torchRandn(dims, 5) }, kind: 'image' as const };
  const vaeOf = async (b: ReturnType<typeof backends.create>, model: string, precision: Precision) =>
    (await b.loadModel({ model, precision, device: 'cpu', offload: { mode: 'none', budgetMiB: 0 } })).vae;

  it('decodes in range latents in fp16 once', async () => {
    const b = backends.create();
    const out = await plainDecode(b, await vaeOf(b, plain, 'fp16'), latent, signal);
    expect(out.images.data.every(Number.isFinite)).toBe(true);
    expect(b.storeStats().created.vae_decoder).toBe(1);
  });

  it('decodes again in fp32 where fp16 overflows: the images of an fp32 decode', async () => {
    const b = backends.create();
    const out = await plainDecode(b, await vaeOf(b, overflows, 'fp16'), latent, signal);
    expect(b.storeStats().created.vae_decoder).toBe(2); // the fp16 session, then an fp32 one
    const ref = backends.create();
    const want = await plainDecode(ref, await vaeOf(ref, overflows, 'fp32'), latent, signal);
    expect(out.images.dims).toEqual(want.images.dims);
    expect([...out.images.data]).toEqual([...want.images.data]);
    expect(out.images.data.every(Number.isFinite)).toBe(true);
    // not all clamped to one value: the fp32 decode is an image
    expect(new Set(out.images.data).size).toBeGreaterThan(2);
  });

  it('fails with the node named where fp32 overflows too', async () => {
    const b = backends.create();
    const inf = {
      samples: { dims, data: new Float32Array(512).fill(Number.POSITIVE_INFINITY) },
      kind: 'image' as const,
    };
    await expect(plainDecode(b, await vaeOf(b, plain, 'fp16'), inf, signal)).rejects.toThrow(
      /vae_decoder: the decoded images hold NaN or infinite values in fp16 and in fp32/,
    );
  });
});
