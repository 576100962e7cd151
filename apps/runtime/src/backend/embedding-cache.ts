import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EncodeOptions } from '@sdflow/nodes/backend.ts';
import type { Conditioning } from '@sdflow/nodes/values.ts';
import { decodeSafetensors, encodeSafetensors } from '../models/safetensors.ts';

// Prompt embeddings on disk, keyed by prompt, negative prompt (null = zeroed) and the text encoders' weights.
// Files survive restarts; a hit needs no text encoder.

const VERSION = 1;
const KEYS = ['promptEmbeds', 'pooledPromptEmbeds', 'negativePromptEmbeds', 'negativePooledPromptEmbeds'] as const;

export function embeddingCacheKey(
  prompt: string,
  negative: string | null,
  clipWeightsKey: string,
  options: EncodeOptions = { clipSkip: 0, weighting: 'none' },
): string {
  // the default options keep the keys written before clip skip and prompt weighting existed
  const { clipSkip, weighting } = options;
  const extra = clipSkip === 0 && weighting === 'none' ? {} : { clipSkip, weighting };
  return createHash('sha256')
    .update(JSON.stringify({ v: VERSION, prompt, negative, clipWeightsKey, ...extra }))
    .digest('hex');
}

export class EmbeddingCache {
  private readonly dir: string;

  constructor(cacheDir: string) {
    this.dir = path.join(cacheDir, 'embeddings');
  }

  private file(key: string): string {
    return path.join(this.dir, `${key}.safetensors`);
  }

  async get(key: string): Promise<Conditioning | null> {
    let buf: Buffer;
    try {
      buf = await readFile(this.file(key));
    } catch {
      return null;
    }
    try {
      const entries = decodeSafetensors(buf, this.file(key));
      const pick = (name: (typeof KEYS)[number]) => {
        const e = entries.get(name);
        if (!e || !(e.data instanceof Float32Array)) throw new Error(`missing ${name}`);
        return { dims: e.dims, data: e.data };
      };
      return {
        promptEmbeds: pick('promptEmbeds'),
        pooledPromptEmbeds: pick('pooledPromptEmbeds'),
        negativePromptEmbeds: pick('negativePromptEmbeds'),
        negativePooledPromptEmbeds: pick('negativePooledPromptEmbeds'),
      };
    } catch {
      // a damaged entry is a miss; it is rewritten on the next encode
      return null;
    }
  }

  async put(key: string, c: Conditioning): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const bytes = encodeSafetensors(
      Object.fromEntries(KEYS.map((k) => [k, c[k]])) as Record<string, { dims: readonly number[]; data: Float32Array }>,
    );
    // write then rename, so a reader never sees a half-written file
    const tmp = `${this.file(key)}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, this.file(key));
  }
}
