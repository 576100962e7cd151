import { describe, expect, it } from 'vitest';
import { OutputCache, valueBytes } from './output-cache.ts';

const latent = (floats: number) => ({
  latent: { samples: { dims: [floats], data: new Float32Array(floats) }, kind: 'noise' },
});

describe('OutputCache', () => {
  it('counts the bytes of every typed array reachable from the outputs, once each', () => {
    const shared = new Float32Array(10);
    expect(valueBytes({ a: { data: shared }, b: [{ data: shared }, new Uint8Array(3)], name: 'x' })).toBe(43);
  });

  it('evicts least recently used entries to stay within its byte budget', () => {
    const cache = new OutputCache(4 * 100);
    cache.set('a', latent(40));
    cache.set('b', latent(40));
    expect(cache.get('a')).toBeDefined(); // a is now more recent than b
    cache.set('c', latent(40));
    expect(cache.has('a')).toBe(true);
    expect(cache.has('b')).toBe(false);
    expect(cache.has('c')).toBe(true);
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 320, evictions: 1 });
  });

  it('does not store an entry larger than the whole budget, and keeps what it had', () => {
    const cache = new OutputCache(100);
    cache.set('small', latent(10));
    expect(cache.set('huge', latent(1000))).toBe(false);
    expect(cache.has('small')).toBe(true);
    expect(cache.stats().bytes).toBe(40);
  });

  it('keeps files with outputs and replaces an entry under the same signature', () => {
    const cache = new OutputCache();
    cache.set('s', {}, ['a.png']);
    cache.set('s', latent(2), ['b.png']);
    expect(cache.get('s')?.files).toEqual(['b.png']);
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: 8 });
  });
});
