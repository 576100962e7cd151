import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyTokenWeights,
  hasWeights,
  parseA1111Weights,
  parseComfyWeights,
  tokenizeWeighted,
} from './prompt-weights.ts';
import { fixtureDir } from './testing/references.ts';
import { ClipTokenizer } from './tokenizer.ts';

// Expected parses worked by hand through ComfyUI's token_weights (comfy/sd1_clip.py) and A1111's
// parse_prompt_attention (modules/prompt_parser.py).

const pairs = (segments: { text: string; weight: number }[]) => segments.map((s) => [s.text, s.weight]);

describe('ComfyUI prompt weights', () => {
  const cases: [string, [string, number][]][] = [
    [
      'a (cat) dog',
      [
        ['a ', 1],
        ['cat', 1.1],
        [' dog', 1],
      ],
    ],
    ['(cat:1.5)', [['cat', 1.5]]],
    ['((cat))', [['cat', 1.1 * 1.1]]],
    ['((cat:1.5))', [['cat', 1.5]]],
    [
      '(a (b:0.5) c)',
      [
        ['a ', 1.1],
        ['b', 0.5],
        [' c', 1.1],
      ],
    ],
    ['(cat: 2 )', [['cat', 2]]],
    ['(cat:abc)', [['cat:abc', 1.1]]],
    ['a \\(cat\\)', [['a (cat)', 1]]],
    ['[cat]', [['[cat]', 1]]],
    ['cat)', [['cat)', 1]]],
    ['(cat', [['(cat', 1]]],
    [
      '(a:1.2) and (b:0.8)',
      [
        ['a', 1.2],
        [' and ', 1],
        ['b', 0.8],
      ],
    ],
  ];
  for (const [prompt, expected] of cases) {
    it(JSON.stringify(prompt), () => expect(pairs(parseComfyWeights(prompt))).toEqual(expected));
  }
});

describe('A1111 prompt weights', () => {
  const cases: [string, [string, number][]][] = [
    [
      'a (cat) dog',
      [
        ['a ', 1],
        ['cat', 1.1],
        [' dog', 1],
      ],
    ],
    ['(cat:1.5)', [['cat', 1.5]]],
    ['((cat))', [['cat', 1.1 * 1.1]]],
    ['((cat:1.5))', [['cat', 1.5 * 1.1]]],
    ['[cat]', [['cat', 1 / 1.1]]],
    [
      '[[cat]] dog',
      [
        ['cat', 1 / 1.1 / 1.1],
        [' dog', 1],
      ],
    ],
    ['\\(cat\\) \\[x\\]', [['(cat) [x]', 1]]],
    ['a \\\\ b', [['a \\ b', 1]]],
    ['(cat', [['cat', 1.1]]],
    ['cat)', [['cat)', 1]]],
    ['(cat:abc)', [['cat:abc', 1.1]]],
    ['', [['', 1]]],
  ];
  for (const [prompt, expected] of cases) {
    it(JSON.stringify(prompt), () => expect(pairs(parseA1111Weights(prompt))).toEqual(expected));
  }
});

describe('weighted tokens', () => {
  const tok = ClipTokenizer.fromFolder(path.join(fixtureDir, 'tokenizer'));

  it('a plain prompt tokenizes as encode() does, all weights 1', () => {
    const text = 'a photo of a cat, highly detailed';
    const segments = parseComfyWeights(text);
    expect(hasWeights(segments)).toBe(false);
    const { inputIds, weights } = tokenizeWeighted(tok, segments);
    expect(inputIds).toEqual(tok.encode(text).inputIds);
    expect(weights.every((w) => w === 1)).toBe(true);
  });

  it('each segment its own tokens and weight; bos, eos and pads weigh 1; truncated to 75 tokens', () => {
    const { inputIds, weights } = tokenizeWeighted(tok, parseComfyWeights('a photo of (a cat:1.5)'));
    const plain = tok.encode('a photo of a cat').inputIds;
    expect(inputIds).toEqual(plain);
    const n = tok.tokenize('a cat').length;
    const first = 1 + tok.tokenize('a photo of ').length;
    expect(weights.slice(first, first + n)).toEqual(new Array(n).fill(1.5));
    expect(weights.filter((w) => w !== 1)).toHaveLength(n);
    const long = tokenizeWeighted(tok, parseComfyWeights(`(${'cat '.repeat(100)}:1.2)`));
    expect(long.inputIds).toEqual(tok.encode('cat '.repeat(100)).inputIds);
    expect(long.weights[0]).toBe(1);
    expect(long.weights.slice(1, 76).every((w) => w === 1.2)).toBe(true);
    expect(long.weights[76]).toBe(1);
  });
});

describe('scaling rules', () => {
  const z = Float32Array.from({ length: 12 }, (_, i) => Math.fround(0.1 * (i + 1) - 0.3));
  const empty = Float32Array.from({ length: 12 }, (_, i) => Math.fround(0.05 * i));
  const weights = [1, 1.5, 1, 0.5];

  it('comfy: (z - z_empty) * w + z_empty at weighted tokens, the rest untouched', () => {
    const out = z.slice();
    applyTokenWeights('comfy', out, weights, empty);
    for (let i = 0; i < 12; i++) {
      const w = Math.fround(weights[Math.floor(i / 3)]!);
      const expected = w === 1 ? z[i]! : Math.fround(Math.fround(Math.fround(z[i]! - empty[i]!) * w) + empty[i]!);
      expect(out[i]).toBe(expected);
    }
  });

  it('a1111: z * w per token, then the mean restored', () => {
    const out = z.slice();
    applyTokenWeights('a1111', out, weights);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(out)).toBeCloseTo(mean(z), 6);
    const scale = out[0]! / z[0]!;
    for (let i = 0; i < 12; i++) expect(out[i]! / z[i]!).toBeCloseTo(scale * weights[Math.floor(i / 3)]!, 5);
  });

  it('comfy needs the empty prompt states', () => {
    expect(() => applyTokenWeights('comfy', z.slice(), weights)).toThrow(/empty prompt/);
  });
});
