import type { EncodeOptions } from '@sdflow/nodes/backend.ts';
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import type { Conditioning } from '@sdflow/nodes/values.ts';
import { clipSkipOutput } from '../onnx/builders/clip-text.ts';
import { concatHiddenStates, makeConditioning } from '../sdxl/conditioning.ts';
import { applyTokenWeights, hasWeights, parseWeights, tokenizeWeighted } from '../sdxl/prompt-weights.ts';
import type { ClipTokenizer } from '../sdxl/tokenizer.ts';
import { throwIfAborted } from './abort.ts';
import type { ComponentRunner } from './component-runner.ts';
import type { ModelSource } from './model-source.ts';

// diffusers' StableDiffusionXLPipeline.encode_prompt: both encoders' penultimate states (clip_skip: an earlier
// layer's, for the prompt only, as diffusers), TE2's pooled projection; then prompt weights (prompt-weights.ts).

export const DEFAULT_ENCODE: EncodeOptions = { clipSkip: 0, weighting: 'none' };

interface PromptRow {
  readonly inputIds: number[];
  /** per-token weights; absent when every weight is 1 */
  readonly weights?: number[];
}

function promptRow(tokenizer: ClipTokenizer, text: string, options: EncodeOptions): PromptRow {
  if (options.weighting === 'none') return { inputIds: tokenizer.encode(text).inputIds };
  const segments = parseWeights(text, options.weighting);
  const { inputIds, weights } = tokenizeWeighted(tokenizer, segments);
  return hasWeights(segments) ? { inputIds, weights } : { inputIds };
}

function idsFeed(rows: number[][]): { dims: number[]; data: BigInt64Array; dtype: 'int64' } {
  const len = rows[0]!.length;
  const data = new BigInt64Array(rows.length * len);
  rows.forEach((r, i) => {
    r.forEach((id, j) => {
      data[i * len + j] = BigInt(id);
    });
  });
  return { dims: [rows.length, len], data, dtype: 'int64' };
}

function row(t: Tensor, i: number): Tensor {
  const [n, ...rest] = t.dims;
  const size = t.data.length / n!;
  return { dims: [1, ...rest], data: t.data.slice(i * size, (i + 1) * size) };
}

export async function encodePrompt(
  model: ModelSource,
  run: ComponentRunner,
  prompt: string,
  negative: string | null,
  signal: AbortSignal,
  options: EncodeOptions = DEFAULT_ENCODE,
): Promise<Conditioning> {
  // diffusers zeroes the negative only for None (and only with force_zeros_for_empty_prompt); "" is encoded
  const zeroNegative = negative === null && model.forceZerosForEmptyPrompt;
  const texts = zeroNegative ? [prompt] : [prompt, negative ?? ''];
  const { tokenizer, tokenizer2 } = model.tokenizers();
  const rows1 = texts.map((t) => promptRow(tokenizer, t, options));
  const rows2 = texts.map((t) => promptRow(tokenizer2, t, options));
  // comfy weighting moves weighted tokens relative to the empty prompt's states: one more row for those
  const withEmpty = options.weighting === 'comfy' && rows1.some((r) => r.weights);
  const ids = (tk: ClipTokenizer, rows: PromptRow[]) =>
    idsFeed([...rows.map((r) => r.inputIds), ...(withEmpty ? [tk.encode('').inputIds] : [])]);
  throwIfAborted(signal);
  const out1 = await run(model.textEncoder, { input_ids: ids(tokenizer, rows1) });
  throwIfAborted(signal);
  const out2 = await run(model.textEncoder2, { input_ids: ids(tokenizer2, rows2) });
  const pooled = need(out2, 'text_embeds', 'text_encoder_2');
  // per row, the states the UNet gets: the prompt's at clip skip, the negative's always hidden_states[-2]
  const half = (i: number) => {
    const skip = i === 0 ? options.clipSkip : 0;
    const layer1 = skipLayer(out1, skip, 'text_encoder');
    const layer2 = skipLayer(out2, skip, 'text_encoder_2');
    const z1 = row(layer1, i);
    const z2 = row(layer2, i);
    const w1 = rows1[i]!.weights;
    const w2 = rows2[i]!.weights;
    if (options.weighting === 'comfy' && w1 && w2) {
      applyTokenWeights('comfy', z1.data, w1, row(layer1, texts.length).data);
      applyTokenWeights('comfy', z2.data, w2, row(layer2, texts.length).data);
    }
    const embeds = concatHiddenStates(z1, z2);
    if (options.weighting === 'a1111' && w1) applyTokenWeights('a1111', embeds.data, w1);
    return { embeds, pooled: row(pooled, i) };
  };
  return makeConditioning(half(0), zeroNegative ? null : half(1));
}

/** The states clip skip picks. The encoder's layer count comes from its outputs (hidden_states.0 ..
 *  hidden_states.{L-2} beside hidden_states_m2); an export made before clip skip has none of them. */
function skipLayer(out: Record<string, Tensor>, clipSkip: number, component: string): Tensor {
  const layers = Object.keys(out).filter((k) => /^hidden_states\.\d+$/.test(k)).length + 1;
  if (clipSkip > 0 && layers === 1) {
    throw new Error(
      `${component}: this ONNX export has no earlier layers' states; export the model again for clip skip`,
    );
  }
  return need(out, clipSkipOutput(clipSkip, layers), component);
}

function need(out: Record<string, Tensor>, name: string, component: string): Tensor {
  const t = out[name];
  if (!t) throw new Error(`${component}: session has no output '${name}'`);
  return t;
}
