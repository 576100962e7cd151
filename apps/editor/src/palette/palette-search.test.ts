import { describe, expect, it } from 'vitest';
import { TEST_CATALOG } from '../document/test-catalog.ts';
import { compatiblePort, createSearch, groupByCategory } from './palette-search.ts';

describe('palette search', () => {
  const search = createSearch(TEST_CATALOG);

  it('finds node types fuzzily by title or id', () => {
    expect(search('denois')[0]?.type).toBe('unetDenoise');
    expect(search('encod prmpt')[0]?.type).toBe('encodePrompt');
    expect(search('')).toHaveLength(TEST_CATALOG.list.length);
  });

  it('lists only the node types whose name holds the text, names starting with it first', () => {
    expect(search('decode').map((t) => t.type)).toEqual(['vaeDecode']);
    expect(search('latent').map((t) => t.type)[0]).toBe('emptyLatent');
  });

  it('filters to node types compatible with a dangling edge', () => {
    expect(
      search('', { side: 'input', type: 'LATENT' })
        .map((t) => t.type)
        .sort(),
    ).toEqual(['unetDenoise', 'vaeDecode']);
    expect(search('', { side: 'output', type: 'CLIP' }).map((t) => t.type)).toEqual(['loadModel']);
    expect(compatiblePort(TEST_CATALOG.byType.get('vaeDecode')!, { side: 'input', type: 'LATENT' })).toBe('latent');
  });

  it('groups by category', () => {
    expect(groupByCategory(TEST_CATALOG.list).map(([c]) => c)).toEqual([
      'model',
      'conditioning',
      'latent',
      'sampling',
      'image',
    ]);
  });
});
