import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PngTextError, readPngText } from './png-text.ts';

// The PNG text reader on real PNGs (from sharp) with tEXt, zTXt and iTXt chunks added.

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Inserts chunks right after IHDR (8-byte signature + 25-byte IHDR chunk). */
function withChunks(png: Buffer, chunks: Buffer[]): Buffer {
  return Buffer.concat([png.subarray(0, 33), ...chunks, png.subarray(33)]);
}

const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#336699' } })
  .png()
  .toBuffer();

describe('readPngText', () => {
  it('reads tEXt, zTXt and iTXt (plain and compressed) entries', () => {
    const workflow = JSON.stringify({ version: 1, nodes: { a: { type: 'saveImage', params: { p: 'ünï 🦊' } } } });
    const file = withChunks(png, [
      chunk('tEXt', Buffer.from('workflow\0{"version":1}', 'latin1')),
      chunk(
        'zTXt',
        Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), deflateSync(Buffer.from('squeezed', 'latin1'))]),
      ),
      chunk('iTXt', Buffer.concat([Buffer.from('plain\0\0\0en\0Plain\0', 'latin1'), Buffer.from(workflow, 'utf8')])),
      chunk(
        'iTXt',
        Buffer.concat([Buffer.from('packed\0\x01\0\0\0', 'latin1'), deflateSync(Buffer.from(workflow, 'utf8'))]),
      ),
      chunk('tEXt', Buffer.from('workflow\0second one is ignored', 'latin1')),
    ]);
    expect(readPngText(file)).toEqual({
      workflow: '{"version":1}',
      Comment: 'squeezed',
      plain: workflow,
      packed: workflow,
    });
  });

  it('gives no entries for a PNG without text, and refuses what is not a PNG or is cut short', () => {
    expect(readPngText(png)).toEqual({});
    expect(() => readPngText(Buffer.from('GIF89a....'))).toThrow(PngTextError);
    expect(() => readPngText(png.subarray(0, 50))).toThrow(/runs past the end/);
  });

  it('refuses a compressed chunk that does not inflate', () => {
    const bad = withChunks(png, [chunk('zTXt', Buffer.from('k\0\0not deflate data', 'latin1'))]);
    expect(() => readPngText(bad)).toThrow(/"k": cannot inflate/);
  });
});
