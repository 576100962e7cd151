import type { Tensor } from '@sdflow/nodes/tensor.ts';
import type { Conditioning } from '@sdflow/nodes/values.ts';
import { concatHiddenStates, makeConditioning } from '../sdxl/conditioning.ts';
import { throwIfAborted } from './abort.ts';
import type { ComponentRunner } from './component-runner.ts';
import type { ModelSource } from './model-source.ts';

// diffusers' StableDiffusionXLPipeline.encode_prompt: both encoders' penultimate states, TE2's pooled projection.

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
): Promise<Conditioning> {
  // diffusers zeroes the negative only for None (and only with force_zeros_for_empty_prompt); "" is encoded
  const zeroNegative = negative === null && model.forceZerosForEmptyPrompt;
  const texts = zeroNegative ? [prompt] : [prompt, negative ?? ''];
  const { tokenizer, tokenizer2 } = model.tokenizers();
  throwIfAborted(signal);
  const out1 = await run(model.textEncoder, { input_ids: idsFeed(texts.map((t) => tokenizer.encode(t).inputIds)) });
  throwIfAborted(signal);
  const out2 = await run(model.textEncoder2, { input_ids: idsFeed(texts.map((t) => tokenizer2.encode(t).inputIds)) });
  const hs1 = need(out1, 'hidden_states_m2', 'text_encoder');
  const hs2 = need(out2, 'hidden_states_m2', 'text_encoder_2');
  const pooled = need(out2, 'text_embeds', 'text_encoder_2');
  const embeds = concatHiddenStates(hs1, hs2);
  const half = (i: number) => ({ embeds: row(embeds, i), pooled: row(pooled, i) });
  return makeConditioning(half(0), zeroNegative ? null : half(1));
}

function need(out: Record<string, Tensor>, name: string, component: string): Tensor {
  const t = out[name];
  if (!t) throw new Error(`${component}: session has no output '${name}'`);
  return t;
}
