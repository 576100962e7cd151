// Inserts a tEXt chunk into a PNG (sharp cannot write arbitrary text chunks). tEXt is Latin-1, so the workflow JSON
// is written with every non-ASCII character as a \uXXXX escape: still JSON, and it parses back to an equal document.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** JSON text with non-ASCII characters escaped (pure ASCII, same document). */
export function asciiJson(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A copy of `png` with a tEXt chunk keyword\0text placed before the first IDAT. */
export function insertPngText(png: Uint8Array, keyword: string, text: string): Uint8Array {
  if (!SIGNATURE.every((b, i) => png[i] === b)) throw new Error('insertPngText: not a PNG (bad signature)');
  if (!/^[ -~]{1,79}$/.test(keyword)) throw new Error(`insertPngText: invalid keyword "${keyword}"`);
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) throw new Error('insertPngText: tEXt holds Latin-1 only; escape the text first');
  }
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8;
  while (pos + 8 <= png.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(...png.subarray(pos + 4, pos + 8));
    if (type === 'IDAT' || type === 'IEND') break;
    pos += 12 + len;
  }
  if (pos + 8 > png.length) throw new Error('insertPngText: PNG has no IDAT or IEND chunk');
  const data = Uint8Array.from(`${keyword}\0${text}`, (ch) => ch.charCodeAt(0));
  const chunk = new Uint8Array(12 + data.length);
  const cv = new DataView(chunk.buffer);
  cv.setUint32(0, data.length);
  chunk.set([0x74, 0x45, 0x58, 0x74], 4); // "tEXt"
  chunk.set(data, 8);
  cv.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, pos));
  out.set(chunk, pos);
  out.set(png.subarray(pos), pos + chunk.length);
  return out;
}
