import { inflateSync } from 'node:zlib';

// Reads the text chunks (tEXt, zTXt, iTXt) of a PNG: Save Image embeds the workflow there.

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Inflated text beyond this is refused (a small PNG must not expand into gigabytes). */
const MAX_TEXT_BYTES = 64 * 1024 * 1024;

export class PngTextError extends Error {}

function inflateText(data: Buffer, keyword: string): Buffer {
  try {
    return inflateSync(data, { maxOutputLength: MAX_TEXT_BYTES });
  } catch (err) {
    throw new PngTextError(`PNG text chunk "${keyword}": cannot inflate: ${(err as Error).message}`);
  }
}

/** All text entries by keyword (the first one wins when a keyword repeats). Throws PngTextError on a non-PNG. */
export function readPngText(png: Uint8Array): Record<string, string> {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new PngTextError('not a PNG file (bad signature)');
  const out: Record<string, string> = {};
  let pos = 8;
  while (pos + 8 <= buf.length) {
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const start = pos + 8;
    const end = start + length;
    if (end + 4 > buf.length) throw new PngTextError(`PNG chunk ${type} at byte ${pos} runs past the end of the file`);
    const data = buf.subarray(start, end);
    if (type === 'tEXt' || type === 'zTXt' || type === 'iTXt') {
      const entry = parseTextChunk(type, data);
      if (entry && !(entry.keyword in out)) out[entry.keyword] = entry.text;
    }
    if (type === 'IEND') break;
    pos = end + 4; // skip CRC
  }
  return out;
}

function parseTextChunk(type: string, data: Buffer): { keyword: string; text: string } | undefined {
  const nul = data.indexOf(0);
  if (nul <= 0) return undefined;
  const keyword = data.toString('latin1', 0, nul);
  if (type === 'tEXt') return { keyword, text: data.toString('latin1', nul + 1) };
  if (type === 'zTXt') return { keyword, text: inflateText(data.subarray(nul + 2), keyword).toString('latin1') };
  // iTXt: keyword\0 flag method language\0 translated-keyword\0 text (UTF-8)
  const compressed = data[nul + 1] === 1;
  const langEnd = data.indexOf(0, nul + 3);
  if (langEnd === -1) return undefined;
  const transEnd = data.indexOf(0, langEnd + 1);
  if (transEnd === -1) return undefined;
  const body = data.subarray(transEnd + 1);
  return { keyword, text: (compressed ? inflateText(body, keyword) : body).toString('utf8') };
}
