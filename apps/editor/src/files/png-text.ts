// Reads the text chunks (tEXt, zTXt, iTXt) of a PNG in the browser: Save Image embeds the workflow there.

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

export async function readPngText(bytes: Uint8Array): Promise<Map<string, string>> {
  if (!isPng(bytes)) throw new Error('not a PNG file (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8');
  const out = new Map<string, string>();
  let at = 8;
  while (at + 8 <= bytes.length) {
    const len = view.getUint32(at);
    const type = latin1.decode(bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (data.length < len) throw new Error(`PNG chunk ${type} is truncated`);
    if (type === 'tEXt') {
      const z = data.indexOf(0);
      if (z > 0) out.set(latin1.decode(data.subarray(0, z)), latin1.decode(data.subarray(z + 1)));
    } else if (type === 'zTXt') {
      const z = data.indexOf(0);
      if (z > 0) out.set(latin1.decode(data.subarray(0, z)), latin1.decode(await inflate(data.subarray(z + 2))));
    } else if (type === 'iTXt') {
      const entry = await readItxt(data, latin1, utf8);
      if (entry) out.set(entry[0], entry[1]);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + len;
  }
  return out;
}

async function readItxt(
  data: Uint8Array,
  latin1: TextDecoder,
  utf8: TextDecoder,
): Promise<[string, string] | undefined> {
  const z = data.indexOf(0);
  if (z <= 0) return undefined;
  const keyword = latin1.decode(data.subarray(0, z));
  const compressed = data[z + 1] === 1;
  const langEnd = data.indexOf(0, z + 3);
  const tkEnd = langEnd < 0 ? -1 : data.indexOf(0, langEnd + 1);
  if (tkEnd < 0) return undefined;
  const text = data.subarray(tkEnd + 1);
  return [keyword, utf8.decode(compressed ? await inflate(text) : text)];
}

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
