import { z } from 'zod';

// Binary WebSocket frame for a preview image: a small fixed header, three UTF-8 strings, then the image bytes.
//
//   offset  size  field
//   0       4     magic "SDFP"
//   4       1     layout version (1)
//   5       1     reserved, 0
//   6       2     runId byte length (uint16, big-endian)
//   8       2     nodeId byte length
//   10      2     mime byte length
//   12      4     step (uint32, big-endian; 0 = not a sampling step)
//   16      ...   runId, nodeId, mime (UTF-8), then the encoded image (PNG, JPEG or WebP) to the end

export const PREVIEW_FRAME_MAGIC = 'SDFP';
export const PREVIEW_FRAME_VERSION = 1;
const HEADER_BYTES = 16;

export const PreviewHeader = z.object({
  runId: z.string().min(1).max(200),
  nodeId: z.string().min(1).max(200),
  mime: z.enum(['image/png', 'image/jpeg', 'image/webp']),
  step: z.number().int().min(0).max(0xffffffff).default(0),
});
export type PreviewHeader = z.infer<typeof PreviewHeader>;

/** A decoded preview frame; `type` sets it apart from ServerEvent in one message union. */
export interface PreviewFrame extends PreviewHeader {
  readonly type: 'preview';
  readonly image: Uint8Array;
}

interface Utf8 {
  encode(text: string): Uint8Array;
  decode(bytes: Uint8Array): string;
}
// TextEncoder/TextDecoder exist in Node and browsers; looked up on globalThis to keep this package free of DOM types.
const utf8: Utf8 = (() => {
  const g = globalThis as unknown as {
    TextEncoder: new () => { encode(text: string): Uint8Array };
    TextDecoder: new (label: string, options: { fatal: boolean }) => { decode(bytes: Uint8Array): string };
  };
  const encoder = new g.TextEncoder();
  const decoder = new g.TextDecoder('utf-8', { fatal: true });
  return { encode: (t) => encoder.encode(t), decode: (b) => decoder.decode(b) };
})();

export function encodePreviewFrame(header: z.input<typeof PreviewHeader>, image: Uint8Array): Uint8Array {
  const h = PreviewHeader.parse(header);
  const strings = [h.runId, h.nodeId, h.mime].map((s) => utf8.encode(s));
  const stringBytes = strings.reduce((n, s) => n + s.length, 0);
  const out = new Uint8Array(HEADER_BYTES + stringBytes + image.length);
  const view = new DataView(out.buffer);
  out.set(utf8.encode(PREVIEW_FRAME_MAGIC), 0);
  view.setUint8(4, PREVIEW_FRAME_VERSION);
  for (const [i, s] of strings.entries()) view.setUint16(6 + 2 * i, s.length);
  view.setUint32(12, h.step);
  let at = HEADER_BYTES;
  for (const s of strings) {
    out.set(s, at);
    at += s.length;
  }
  out.set(image, at);
  return out;
}

export type DecodeResult = { ok: true; frame: PreviewFrame } | { ok: false; error: string };

/** Decodes a binary frame; the image is a view into the input, not a copy. */
export function decodePreviewFrame(data: ArrayBuffer | Uint8Array): DecodeResult {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.length < HEADER_BYTES) return { ok: false, error: `preview frame too short (${bytes.length} bytes)` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== PREVIEW_FRAME_MAGIC) return { ok: false, error: 'not a preview frame (bad magic)' };
  const version = view.getUint8(4);
  if (version !== PREVIEW_FRAME_VERSION) return { ok: false, error: `unsupported preview frame version ${version}` };
  const lengths = [view.getUint16(6), view.getUint16(8), view.getUint16(10)];
  const strings: string[] = [];
  let at = HEADER_BYTES;
  for (const n of lengths) {
    if (at + n > bytes.length) return { ok: false, error: 'preview frame header runs past the end of the frame' };
    try {
      strings.push(utf8.decode(bytes.subarray(at, at + n)));
    } catch {
      return { ok: false, error: 'preview frame header is not valid UTF-8' };
    }
    at += n;
  }
  const header = PreviewHeader.safeParse({
    runId: strings[0],
    nodeId: strings[1],
    mime: strings[2],
    step: view.getUint32(12),
  });
  if (!header.success) {
    return {
      ok: false,
      error: `invalid preview frame header: ${header.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    };
  }
  return { ok: true, frame: { type: 'preview', ...header.data, image: bytes.subarray(at) } };
}
