import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EncodeOptions } from '@sdflow/nodes/backend.ts';
import type { Conditioning } from '@sdflow/nodes/values.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsSource } from '../models/weight-source.ts';
import { applyTokenWeights, parseComfyWeights, tokenizeWeighted } from '../sdxl/prompt-weights.ts';
import { fixtureDir, readReferenceTensors, reference, relativeError } from '../sdxl/testing/references.ts';
import { ClipTokenizer } from '../sdxl/tokenizer.ts';
import { embeddingCacheKey } from './embedding-cache.ts';
import { testBackends } from './testing/test-backends.ts';

// Clip skip and prompt weights through the backend on sdxl-tiny (text encoders of 5 layers, width 32 each).

const work = mkdtempSync(path.join(tmpdir(), 'sdflow-encode-'));
const backends = testBackends(work, path.dirname(fixtureDir));
const backend = backends.create();
afterAll(() => backends.disposeAll());
const signal = new AbortController().signal;
const model = backend.loadModel({
  model: path.basename(fixtureDir),
  precision: 'fp32',
  device: 'cpu',
  offload: { mode: 'none', budgetMiB: 0 },
});
const enc = readReferenceTensors('encode_prompt.safetensors');
const PROMPT = 'a photo of a cat';

async function encode(prompt: string, negative: string | null, options?: EncodeOptions): Promise<Conditioning> {
  const { clip } = await model;
  return backend.encodePrompt(clip, prompt, negative, signal, options);
}

/** hidden_states[0]: token embedding + position embedding, from the weights. */
function embeddings(component: string, ids: number[]): Float32Array {
  const w = SafetensorsSource.open(path.join(fixtureDir, component));
  const prefix = w.has('text_model.embeddings.token_embedding.weight') ? 'text_model.' : '';
  const dim = 32;
  const tok = w.read(`${prefix}embeddings.token_embedding.weight`, [49408, dim]);
  const pos = w.read(`${prefix}embeddings.position_embedding.weight`, [77, dim]);
  const out = new Float32Array(ids.length * dim);
  ids.forEach((id, j) => {
    for (let k = 0; k < dim; k++) out[j * dim + k] = Math.fround(tok[id * dim + k]! + pos[j * dim + k]!);
  });
  return out;
}

function concatRows(a: Float32Array, b: Float32Array, dim: number): Float32Array {
  const rows = a.length / dim;
  const out = new Float32Array(2 * a.length);
  for (let r = 0; r < rows; r++) {
    out.set(a.subarray(r * dim, (r + 1) * dim), 2 * r * dim);
    out.set(b.subarray(r * dim, (r + 1) * dim), (2 * r + 1) * dim);
  }
  return out;
}

describe('clip skip', () => {
  it('0 with no weighting is the default encoding, bit for bit', async () => {
    const plain = await encode(PROMPT, 'blurry');
    const explicit = await encode(PROMPT, 'blurry', { clipSkip: 0, weighting: 'none' });
    expect(explicit).toEqual(plain);
  });

  it("4 on 5-layer encoders gives hidden_states[-6], the embeddings; the negative and pooled as diffusers'", async () => {
    const c = await encode(PROMPT, 'blurry', { clipSkip: 4, weighting: 'none' });
    const ids1 = ClipTokenizer.fromFolder(path.join(fixtureDir, 'tokenizer')).encode(PROMPT).inputIds;
    const ids2 = ClipTokenizer.fromFolder(path.join(fixtureDir, 'tokenizer_2')).encode(PROMPT).inputIds;
    const expected = concatRows(embeddings('text_encoder', ids1), embeddings('text_encoder_2', ids2), 32);
    expect(relativeError(c.promptEmbeds.data, expected)).toBeLessThan(1e-6);
    // diffusers applies clip_skip to the prompt only
    const neg = reference(enc, 'neg_blurry.negative_prompt_embeds').data;
    expect(relativeError(c.negativePromptEmbeds.data, neg)).toBeLessThan(1e-4);
    const pooled = reference(enc, 'neg_blurry.pooled_prompt_embeds').data;
    expect(relativeError(c.pooledPromptEmbeds.data, pooled)).toBeLessThan(1e-4);
  });

  it('1 differs from 0 and from 2; past the layer count it fails naming clip skip', async () => {
    const [a, b, d] = await Promise.all([0, 1, 2].map((k) => encode(PROMPT, null, { clipSkip: k, weighting: 'none' })));
    expect(relativeError(b!.promptEmbeds.data, a!.promptEmbeds.data)).toBeGreaterThan(1e-3);
    expect(relativeError(d!.promptEmbeds.data, b!.promptEmbeds.data)).toBeGreaterThan(1e-3);
    await expect(encode(PROMPT, null, { clipSkip: 5, weighting: 'none' })).rejects.toThrow(/clip skip 5/);
  });
});

describe('prompt weights', () => {
  it('a prompt without weights encodes as with weighting off', async () => {
    const plain = await encode(PROMPT, 'blurry');
    expect(await encode(PROMPT, 'blurry', { clipSkip: 0, weighting: 'comfy' })).toEqual(plain);
    expect(await encode(PROMPT, 'blurry', { clipSkip: 0, weighting: 'a1111' })).toEqual(plain);
  });

  it('comfy: weighted tokens move from the empty prompt states by their weight; pooled untouched', async () => {
    const weighted = await encode('a photo of (a cat:1.5)', 'blurry', { clipSkip: 0, weighting: 'comfy' });
    const plain = await encode(PROMPT, 'blurry');
    const empty = await encode('', null);
    const tok = ClipTokenizer.fromFolder(path.join(fixtureDir, 'tokenizer'));
    const { weights } = tokenizeWeighted(tok, parseComfyWeights('a photo of (a cat:1.5)'));
    // both halves (each encoder's 32 values) of every token row follow the rule with the same weight
    const expected = plain.promptEmbeds.data.slice() as Float32Array;
    applyTokenWeights('comfy', expected, weights, empty.promptEmbeds.data as Float32Array);
    expect(relativeError(weighted.promptEmbeds.data, expected)).toBeLessThan(1e-6);
    expect(relativeError(weighted.promptEmbeds.data, plain.promptEmbeds.data)).toBeGreaterThan(1e-3);
    expect(weighted.pooledPromptEmbeds).toEqual(plain.pooledPromptEmbeds);
    expect(relativeError(weighted.negativePromptEmbeds.data, plain.negativePromptEmbeds.data)).toBeLessThan(1e-6);
  });

  it('a1111: z * w per token, rescaled to the unweighted mean', async () => {
    const weighted = await encode('a photo of [a cat]', null, { clipSkip: 0, weighting: 'a1111' });
    const plain = await encode(PROMPT, null);
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    expect(mean(weighted.promptEmbeds.data)).toBeCloseTo(mean(plain.promptEmbeds.data), 6);
    const tok = ClipTokenizer.fromFolder(path.join(fixtureDir, 'tokenizer'));
    const first = 1 + tok.tokenize('a photo of ').length;
    const ratio = (j: number) => weighted.promptEmbeds.data[j * 64]! / plain.promptEmbeds.data[j * 64]!;
    expect(ratio(first) / ratio(0)).toBeCloseTo(1 / 1.1, 4);
    expect(ratio(first - 1) / ratio(0)).toBeCloseTo(1, 5);
  });

  it('the embedding cache keys options apart, and keeps the default key as before', () => {
    const key = embeddingCacheKey(PROMPT, null, 'w');
    expect(embeddingCacheKey(PROMPT, null, 'w', { clipSkip: 0, weighting: 'none' })).toBe(key);
    expect(embeddingCacheKey(PROMPT, null, 'w', { clipSkip: 1, weighting: 'none' })).not.toBe(key);
    expect(embeddingCacheKey(PROMPT, null, 'w', { clipSkip: 0, weighting: 'comfy' })).not.toBe(key);
  });
});
