// Node outputs kept across runs, keyed by input signature; least recently used entries go first once the
// sum of their tensor bytes passes the budget. Model handles are plain data and count as (almost) nothing.

export interface CacheEntry {
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Files an output node wrote, reported again when the node is served from the cache. */
  readonly files: readonly string[];
  readonly bytes: number;
}

export interface OutputCacheStats {
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
}

export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;

/** Bytes of every typed array reachable from `value` (each buffer view counted once). */
export function valueBytes(value: unknown, seen = new Set<unknown>()): number {
  if (value === null || typeof value !== 'object' || seen.has(value)) return 0;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof ArrayBuffer) return value.byteLength;
  let sum = 0;
  for (const v of Array.isArray(value) ? value : Object.values(value)) sum += valueBytes(v, seen);
  return sum;
}

export class OutputCache {
  // Map iteration order is insertion order: re-inserting on use keeps the least recently used first.
  readonly #entries = new Map<string, CacheEntry>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(readonly maxBytes: number = DEFAULT_CACHE_BYTES) {
    if (!(maxBytes >= 0)) throw new Error(`output cache: maxBytes must be >= 0, got ${maxBytes}`);
  }

  get(signature: string): CacheEntry | undefined {
    const entry = this.#entries.get(signature);
    if (!entry) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    this.#entries.delete(signature);
    this.#entries.set(signature, entry);
    return entry;
  }

  has(signature: string): boolean {
    return this.#entries.has(signature);
  }

  /** Stores outputs unless they alone exceed the budget; evicts least recently used entries to make room. */
  set(signature: string, outputs: Readonly<Record<string, unknown>>, files: readonly string[] = []): boolean {
    this.delete(signature);
    const bytes = valueBytes(outputs);
    if (bytes > this.maxBytes) return false;
    for (const [key, old] of this.#entries) {
      if (this.#bytes + bytes <= this.maxBytes) break;
      this.#entries.delete(key);
      this.#bytes -= old.bytes;
      this.#evictions++;
    }
    this.#entries.set(signature, { outputs, files: [...files], bytes });
    this.#bytes += bytes;
    return true;
  }

  delete(signature: string): void {
    const old = this.#entries.get(signature);
    if (!old) return;
    this.#entries.delete(signature);
    this.#bytes -= old.bytes;
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  stats(): OutputCacheStats {
    return {
      entries: this.#entries.size,
      bytes: this.#bytes,
      maxBytes: this.maxBytes,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
    };
  }
}
