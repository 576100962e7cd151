import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { BYTE_TO_UNICODE } from '../../sdxl/tokenizer.ts';

// CLIP's vocabulary derived from OpenAI's BPE merges file (bpe_simple_vocab_16e6.txt.gz, MIT; LICENSE-clip-bpe),
// exactly as CLIP's simple_tokenizer and the hub's vocab.json / merges.txt: 49408 tokens.

const MERGE_COUNT = 49152 - 256 - 2;

export interface ClipBpeVocab {
  readonly vocab: Record<string, number>;
  /** "a b" merge lines in rank order */
  readonly merges: string[];
}

/** Byte-level symbols in the order GPT-2's bytes_to_unicode lists them (printable bytes first). */
function byteSymbolsInOrder(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const rest: number[] = [];
  for (let b = 0; b < 256; b++) if (!printable.includes(b)) rest.push(b);
  return [...printable, ...rest].map((b) => BYTE_TO_UNICODE[b]!);
}

export function deriveClipVocab(gz: Uint8Array): ClipBpeVocab {
  const lines = gunzipSync(gz).toString('utf8').split('\n');
  // line 0 is the "#version" header; merges are lines 1..48894
  const merges = lines.slice(1, MERGE_COUNT + 1);
  if (merges.length !== MERGE_COUNT)
    throw new Error(`CLIP BPE file has ${merges.length} merges, expected ${MERGE_COUNT}`);
  const symbols = byteSymbolsInOrder();
  const tokens = [...symbols, ...symbols.map((s) => `${s}</w>`), ...merges.map((m) => m.split(' ').join(''))];
  tokens.push('<|startoftext|>', '<|endoftext|>');
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => {
    vocab[t] = i;
  });
  return { vocab, merges };
}

let cached: ClipBpeVocab | undefined;

/** The vocabulary shipped with the default model (read and derived once per process). */
export function defaultClipVocab(): ClipBpeVocab {
  cached ??= deriveClipVocab(readFileSync(new URL('./bpe_simple_vocab_16e6.txt.gz', import.meta.url)));
  return cached;
}
