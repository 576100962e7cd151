import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

// CLIP BPE tokenizer as transformers' CLIPTokenizer (tokenizers backend) for SDXL's two tokenizer folders.

const SpecialToken = z.union([z.string(), z.object({ content: z.string() }).transform((t) => t.content)]);

export const TokenizerConfig = z.object({
  bos_token: SpecialToken.default('<|startoftext|>'),
  eos_token: SpecialToken.default('<|endoftext|>'),
  pad_token: SpecialToken.default('<|endoftext|>'),
  unk_token: SpecialToken.default('<|endoftext|>'),
  model_max_length: z.number().int().positive().max(100_000).default(77),
});
export type TokenizerConfig = z.infer<typeof TokenizerConfig>;

export const Vocab = z.record(z.string(), z.number().int().nonnegative());
export type Vocab = z.infer<typeof Vocab>;

// Pieces as CLIP's pre-tokenizer splits them (whitespace is dropped).
const PIECE = /'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu;

/** GPT-2's reversible byte -> printable unicode map. */
function byteToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const map: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    map[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + extra++);
  }
  return map;
}
export const BYTE_TO_UNICODE: readonly string[] = byteToUnicode();

export interface Encoding {
  /** ids padded/truncated to maxLength (bos ... eos pad...) */
  readonly inputIds: number[];
  readonly attentionMask: number[];
  /** bos + all tokens + eos, never truncated */
  readonly untruncatedIds: number[];
}

export class ClipTokenizer {
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  private readonly unkId: number;
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();
  private readonly special: Map<string, number>;
  private readonly specialPattern: RegExp;

  constructor(
    private readonly vocab: Vocab,
    merges: readonly string[],
    config: TokenizerConfig,
    private readonly source = 'tokenizer',
  ) {
    this.maxLength = config.model_max_length;
    this.bosId = this.idOf(config.bos_token, 'bos_token');
    this.eosId = this.idOf(config.eos_token, 'eos_token');
    this.padId = this.idOf(config.pad_token, 'pad_token');
    this.unkId = this.idOf(config.unk_token, 'unk_token');
    merges.forEach((m, i) => {
      this.ranks.set(m, i);
    });
    // every special token of the config is an added token, matched whole in the raw text (tokenizer_2's "!" too)
    this.special = new Map([
      [config.bos_token, this.bosId],
      [config.eos_token, this.eosId],
      [config.pad_token, this.padId],
      [config.unk_token, this.unkId],
    ]);
    const longestFirst = [...this.special.keys()].sort((a, b) => b.length - a.length);
    const escaped = longestFirst.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.specialPattern = new RegExp(`(${escaped.join('|')})`);
  }

  /** Number of ids the tokenizer can produce (largest vocab.json id + 1): the text encoder's vocab_size bounds it. */
  get idCount(): number {
    let max = -1;
    for (const id of Object.values(this.vocab)) if (id > max) max = id;
    return max + 1;
  }

  /** Reads vocab.json, merges.txt and tokenizer_config.json from a tokenizer folder. */
  static fromFolder(dir: string): ClipTokenizer {
    const read = (name: string) => {
      const file = path.join(dir, name);
      try {
        return readFileSync(file, 'utf8');
      } catch {
        throw new Error(`tokenizer: cannot read ${file}`);
      }
    };
    const parse = <T>(name: string, schema: z.ZodType<T>): T => {
      const result = schema.safeParse(JSON.parse(read(name)));
      if (!result.success) throw new Error(`tokenizer: ${path.join(dir, name)}: ${result.error.issues[0]?.message}`);
      return result.data;
    };
    const vocab = parse('vocab.json', Vocab);
    const config = parse('tokenizer_config.json', TokenizerConfig);
    return new ClipTokenizer(vocab, parseMerges(read('merges.txt')), config, dir);
  }

  private idOf(token: string, what: string): number {
    const id = this.vocab[token];
    if (id === undefined) throw new Error(`${this.source}: ${what} "${token}" is not in vocab.json`);
    return id;
  }

  /** Token ids of the text without bos/eos. */
  tokenize(text: string): number[] {
    const ids: number[] = [];
    // special tokens are matched on the raw text, before normalisation
    for (const part of text.split(this.specialPattern)) {
      if (part === '') continue;
      const special = this.special.get(part);
      if (special !== undefined) {
        ids.push(special);
        continue;
      }
      const normalized = part.normalize('NFC').replace(/\s+/gu, ' ').toLowerCase();
      for (const match of normalized.matchAll(PIECE)) ids.push(...this.bpe(match[0]));
    }
    return ids;
  }

  /** As tokenizer(text, padding="max_length", max_length=77, truncation=True). */
  encode(text: string): Encoding {
    const tokens = this.tokenize(text);
    const untruncatedIds = [this.bosId, ...tokens, this.eosId];
    const kept = tokens.slice(0, this.maxLength - 2);
    const ids = [this.bosId, ...kept, this.eosId];
    const attentionMask = ids.map(() => 1);
    while (ids.length < this.maxLength) {
      ids.push(this.padId);
      attentionMask.push(0);
    }
    return { inputIds: ids, attentionMask, untruncatedIds };
  }

  private bpe(piece: string): number[] {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    const bytes = new TextEncoder().encode(piece);
    const word = Array.from(bytes, (b) => BYTE_TO_UNICODE[b]!);
    word[word.length - 1] += '</w>';
    while (word.length > 1) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const a = word[best]!;
      const b = word[best + 1]!;
      // merge every occurrence of the best pair, left to right
      for (let i = 0; i < word.length - 1; i++) {
        if (word[i] === a && word[i + 1] === b) word.splice(i, 2, a + b);
      }
    }
    const ids = word.map((w) => this.vocab[w] ?? this.unkId);
    if (this.cache.size < 10_000) this.cache.set(piece, ids);
    return ids;
  }
}

/** merges.txt lines after the "#version" header, blank lines dropped. */
export function parseMerges(text: string): string[] {
  return text.split('\n').filter((line, i) => line.trim() !== '' && !(i === 0 && line.startsWith('#version')));
}
