import { describe, expect, it } from 'vitest';
import { isPng, readPngText } from './png-text.ts';

const enc = new TextEncoder();
async function deflate(text: string): Promise<Uint8Array> {
  const stream = new Blob([enc.encode(text)]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// Builds a minimal PNG byte stream by hand: the reader only walks chunks, so CRCs can be zero.
function png(chunks: [string, Uint8Array][]): Uint8Array {
  const parts: number[] = [137, 80, 78, 71, 13, 10, 26, 10];
  for (const [type, data] of [...chunks, ['IEND', new Uint8Array()] as [string, Uint8Array]]) {
    parts.push((data.length >>> 24) & 255, (data.length >>> 16) & 255, (data.length >>> 8) & 255, data.length & 255);
    parts.push(...enc.encode(type), ...data, 0, 0, 0, 0);
  }
  return new Uint8Array(parts);
}
const bytes = (...parts: (string | number[] | Uint8Array)[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...enc.encode(p)] : [...p])));

describe('readPngText', () => {
  it('reads tEXt, zTXt and iTXt (plain and compressed) chunks', async () => {
    const wf = JSON.stringify({ version: 1, nodes: { a: { type: 'x', prompt: 'café' } } });
    const file = png([
      ['IHDR', new Uint8Array(13)],
      ['tEXt', bytes('workflow', [0], '{"version":1}')],
      ['zTXt', bytes('notes', [0, 0], await deflate('zipped'))],
      ['iTXt', bytes('utf', [0, 0, 0], 'en', [0], [0], wf)],
      ['iTXt', bytes('zutf', [0, 1, 0], [0], [0], await deflate('ünï'))],
    ]);
    const text = await readPngText(file);
    expect(text.get('workflow')).toBe('{"version":1}');
    expect(text.get('notes')).toBe('zipped');
    expect(JSON.parse(text.get('utf')!)).toEqual(JSON.parse(wf));
    expect(text.get('zutf')).toBe('ünï');
  });

  it('refuses non-PNG bytes and truncated chunks', async () => {
    expect(isPng(new Uint8Array([1, 2, 3]))).toBe(false);
    await expect(readPngText(new Uint8Array(10))).rejects.toThrow(/not a PNG/);
    const cut = png([['tEXt', bytes('workflow', [0], 'abc')]]).subarray(0, 20);
    await expect(readPngText(cut)).rejects.toThrow(/truncated/);
  });
});
