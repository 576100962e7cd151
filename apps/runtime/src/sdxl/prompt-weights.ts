import type { PromptWeighting } from '@sdflow/nodes/backend.ts';
import type { ClipTokenizer } from './tokenizer.ts';

// Prompt weighting as ComfyUI and A1111 write it: `(word)` is 1.1 times the weight, `(word:1.5)` weight 1.5,
// `\(` and `\)` literal brackets; A1111 also takes `[word]` (weight / 1.1) and `\[`, `\]`, `\\`.
// The weights scale the text encoders' per-token hidden states (the ones the UNet gets), never the pooled
// embeddings:
//   comfy: z' = (z - z_empty) * w + z_empty per token, z_empty the same encoder's states of the empty prompt at
//          the same position (ComfyUI's default, weight_interpretation "comfy");
//   a1111: z' = z * w per token, then the whole [77, 2048] prompt rescaled by mean(z) / mean(z * w) (A1111's
//          "Original" emphasis).
// Tokens are those of each segment in turn, truncated to 75 between BOS and EOS as diffusers truncates; pads,
// BOS and EOS keep weight 1.

export interface WeightedText {
  readonly text: string;
  readonly weight: number;
}

/** Python's float() for the weight after a colon; NaN when it would raise. */
function pythonFloat(s: string): number {
  const t = s.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  return Number.NaN;
}

/** ComfyUI's parse_parentheses: top-level runs of text and balanced `( ... )` groups. */
function parseParentheses(s: string): string[] {
  const out: string[] = [];
  let current = '';
  let depth = 0;
  for (const ch of s) {
    if (ch === '(') {
      if (depth === 0) {
        if (current) out.push(current);
        current = '(';
      } else current += ch;
      depth++;
    } else if (ch === ')') {
      depth--;
      if (depth === 0) {
        out.push(`${current})`);
        current = '';
      } else current += ch;
    } else current += ch;
  }
  if (current) out.push(current);
  return out;
}

function comfyTokenWeights(s: string, weight: number): WeightedText[] {
  const out: WeightedText[] = [];
  for (let x of parseParentheses(s)) {
    if (x.length >= 2 && x.startsWith('(') && x.endsWith(')')) {
      x = x.slice(1, -1);
      let w = weight * 1.1;
      const colon = x.lastIndexOf(':');
      if (colon > 0) {
        const parsed = pythonFloat(x.slice(colon + 1));
        if (!Number.isNaN(parsed)) {
          w = parsed;
          x = x.slice(0, colon);
        }
      }
      out.push(...comfyTokenWeights(x, w));
    } else out.push({ text: x, weight });
  }
  return out;
}

/** ComfyUI's token_weights (comfy/sd1_clip.py): a nested `(x)` multiplies by 1.1, `(x:w)` sets w. */
export function parseComfyWeights(prompt: string): WeightedText[] {
  const escaped = prompt.replaceAll('\\)', '\u0000\u0001').replaceAll('\\(', '\u0000\u0002');
  return comfyTokenWeights(escaped, 1).map(({ text, weight }) => ({
    text: text.replaceAll('\u0000\u0001', ')').replaceAll('\u0000\u0002', '('),
    weight,
  }));
}

const A1111_ATTENTION = /\\\(|\\\)|\\\[|\\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|\]|[^\\()[\]:]+|:/g;

/** A1111's parse_prompt_attention (modules/prompt_parser.py): brackets multiply, unclosed ones to the end; runs
 *  of equal weight merged. BREAK is kept as text (sdflow encodes one 77-token window). */
export function parseA1111Weights(prompt: string): WeightedText[] {
  const res: { text: string; weight: number }[] = [];
  const round: number[] = [];
  const square: number[] = [];
  const multiply = (from: number, by: number) => {
    for (let p = from; p < res.length; p++) res[p]!.weight *= by;
  };
  for (const m of prompt.matchAll(A1111_ATTENTION)) {
    const text = m[0];
    const weight = m[1];
    if (text.startsWith('\\')) res.push({ text: text.slice(1), weight: 1 });
    else if (text === '(') round.push(res.length);
    else if (text === '[') square.push(res.length);
    else if (weight !== undefined && round.length > 0) multiply(round.pop()!, Number.parseFloat(weight));
    else if (text === ')' && round.length > 0) multiply(round.pop()!, 1.1);
    else if (text === ']' && square.length > 0) multiply(square.pop()!, 1 / 1.1);
    else res.push({ text, weight: 1 });
  }
  for (const p of round) multiply(p, 1.1);
  for (const p of square) multiply(p, 1 / 1.1);
  if (res.length === 0) res.push({ text: '', weight: 1 });
  for (let i = 0; i + 1 < res.length; ) {
    if (res[i]!.weight === res[i + 1]!.weight) {
      res[i]!.text += res[i + 1]!.text;
      res.splice(i + 1, 1);
    } else i++;
  }
  return res;
}

export function parseWeights(prompt: string, weighting: Exclude<PromptWeighting, 'none'>): WeightedText[] {
  return weighting === 'comfy' ? parseComfyWeights(prompt) : parseA1111Weights(prompt);
}

/** Token ids (padded to the tokenizer's length) and one weight per position. */
export function tokenizeWeighted(
  tokenizer: ClipTokenizer,
  segments: readonly WeightedText[],
): { inputIds: number[]; weights: number[] } {
  // encode('') is [bos, eos, pad, ...]: the frame every prompt is written into
  const frame = tokenizer.encode('').inputIds;
  const [bos, eos, pad] = frame as [number, number, number];
  const ids: number[] = [];
  const w: number[] = [];
  for (const s of segments) {
    for (const id of tokenizer.tokenize(s.text)) {
      ids.push(id);
      w.push(s.weight);
    }
  }
  const keep = frame.length - 2;
  const inputIds = [bos, ...ids.slice(0, keep), eos];
  const weights = [1, ...w.slice(0, keep), 1];
  while (inputIds.length < frame.length) {
    inputIds.push(pad);
    weights.push(1);
  }
  return { inputIds, weights };
}

/** Applies per-token weights to one prompt's states z [seq, dim] (in place); zEmpty is needed for 'comfy'. */
export function applyTokenWeights(
  weighting: Exclude<PromptWeighting, 'none'>,
  z: Float32Array,
  weights: readonly number[],
  zEmpty?: Float32Array,
): void {
  const dim = z.length / weights.length;
  if (weighting === 'comfy') {
    if (!zEmpty) throw new Error('comfy prompt weighting needs the empty prompt states');
    weights.forEach((w, j) => {
      if (w === 1) return;
      const wf = Math.fround(w);
      for (let k = j * dim; k < (j + 1) * dim; k++) {
        const e = zEmpty[k]!;
        z[k] = Math.fround(Math.fround(Math.fround(z[k]! - e) * wf) + e);
      }
    });
    return;
  }
  let before = 0;
  for (const v of z) before += v;
  let after = 0;
  weights.forEach((w, j) => {
    const wf = Math.fround(w);
    for (let k = j * dim; k < (j + 1) * dim; k++) {
      z[k] = Math.fround(z[k]! * wf);
      after += z[k]!;
    }
  });
  const scale = Math.fround(before / after);
  for (let k = 0; k < z.length; k++) z[k] = Math.fround(z[k]! * scale);
}

/** Whether a parse changes anything beyond the plain text (a weight other than 1). */
export function hasWeights(segments: readonly WeightedText[]): boolean {
  return segments.some((s) => s.weight !== 1);
}
