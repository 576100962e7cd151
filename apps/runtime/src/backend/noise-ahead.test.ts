import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureDir } from '../sdxl/testing/references.ts';
import { TorchGenerator } from '../sdxl/torch-rng.ts';
import { noiseAhead } from './noise-ahead.ts';
import { runPipeline } from './testing/run-pipeline.ts';
import { testBackends } from './testing/test-backends.ts';

// Ancestral noise drawn on the noise thread: the generator's own stream, bit for bit, however the steps take it.

const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

describe('noiseAhead', () => {
  it('gives what generator.randn would, chunk after chunk, and leaves the generator where it was', async () => {
    const g = new TorchGenerator(11);
    g.randn([7]); // a draw before (img2img's noise): the thread goes on from there
    const n = 1000; // not a multiple of 16: torch's last block is redrawn
    const source = noiseAhead(g, n, 5);
    const got: Float32Array[] = [];
    for (let i = 0; i < 5; i++) {
      got.push(await source.next());
      await new Promise((r) => setTimeout(r, 5)); // a slow step: chunks wait, drawn, until taken
    }
    source.close();
    const want = new TorchGenerator(11);
    want.randn([7]);
    for (const [i, chunk] of got.entries()) expect(bits(chunk), `chunk ${i}`).toEqual(bits(want.randn([n])));
    // the caller's generator did not move: its next draw is the thread's first chunk
    expect(bits(g.randn([n]))).toEqual(bits(got[0]!));
    await expect(source.next()).rejects.toThrow(/chunk 5 of 5/);
  });

  it('a job stopped early does not disturb the next one', async () => {
    const first = noiseAhead(new TorchGenerator(1), 64, 10);
    await first.next();
    first.close();
    const second = noiseAhead(new TorchGenerator(2), 64, 2);
    const [a, b] = [await second.next(), await second.next()];
    second.close();
    const want = new TorchGenerator(2);
    expect(bits(a)).toEqual(bits(want.randn([64])));
    expect(bits(b)).toEqual(bits(want.randn([64])));
  });
});

describe('the backend with the noise thread', () => {
  const backends = testBackends(mkdtempSync(path.join(tmpdir(), 'sdflow-noise-')), path.dirname(fixtureDir));
  afterAll(() => backends.disposeAll());

  it('euler_ancestral: the same latents with its noise drawn on the thread as on the backend thread', async () => {
    const req = {
      model: path.basename(fixtureDir),
      width: 32,
      height: 32,
      steps: 4,
      cfg: 5,
      scheduler: 'euler_ancestral' as const,
      seed: 5,
      batchSize: 2,
      save: false,
    };
    const here = await runPipeline(backends.create(), req);
    const thread = await runPipeline(backends.create({ noiseThreadMin: 1 }), req);
    expect(bits(thread.latent.samples.data)).toEqual(bits(here.latent.samples.data));
    expect(thread.latent.samples.data.some((v, i) => v !== thread.noise.data[i])).toBe(true);
  });
});
