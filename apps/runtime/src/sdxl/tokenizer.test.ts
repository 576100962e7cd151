import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir, readReferenceJson } from './testing/references.ts';
import { ClipTokenizer } from './tokenizer.ts';

interface PromptRef {
  text: string;
  tokenizer_input_ids: number[];
  tokenizer_attention_mask: number[];
  tokenizer_untruncated_ids: number[];
  tokenizer_2_input_ids: number[];
  tokenizer_2_attention_mask: number[];
  tokenizer_2_untruncated_ids: number[];
}

const refs = readReferenceJson<{ prompts: PromptRef[] }>('tokens.json');
const tok1 = ClipTokenizer.fromFolder(path.join(fixtureDir, 'tokenizer'));
const tok2 = ClipTokenizer.fromFolder(path.join(fixtureDir, 'tokenizer_2'));

describe('CLIP tokenizer', () => {
  it('reads pad ids from tokenizer_config.json', () => {
    expect(tok1.padId).toBe(49407);
    expect(tok2.padId).toBe(0);
  });

  for (const ref of refs.prompts) {
    it(`matches transformers for ${JSON.stringify(ref.text).slice(0, 60)}`, () => {
      const e1 = tok1.encode(ref.text);
      const e2 = tok2.encode(ref.text);
      expect(e1.inputIds).toEqual(ref.tokenizer_input_ids);
      expect(e1.attentionMask).toEqual(ref.tokenizer_attention_mask);
      expect(e1.untruncatedIds).toEqual(ref.tokenizer_untruncated_ids);
      expect(e2.inputIds).toEqual(ref.tokenizer_2_input_ids);
      expect(e2.attentionMask).toEqual(ref.tokenizer_2_attention_mask);
      expect(e2.untruncatedIds).toEqual(ref.tokenizer_2_untruncated_ids);
    });
  }

  it('names the folder when a file is missing', () => {
    expect(() => ClipTokenizer.fromFolder('/nonexistent/tokenizer')).toThrow(/\/nonexistent\/tokenizer/);
  });
});
