import { z } from 'zod';

// Small whole-file safetensors decoder for latents, the embedding cache and test references (model weights use the
// lazy reader in models/; every writer uses models/safetensors.ts's encodeSafetensors).

const HeaderEntry = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

export interface SafetensorsEntry {
  readonly dtype: 'F32' | 'I64';
  readonly dims: number[];
  readonly data: Float32Array | BigInt64Array;
}

/** Parses a safetensors buffer holding F32 and I64 tensors; `source` names the file in errors. */
export function decodeSafetensors(buf: Uint8Array, source: string): Map<string, SafetensorsEntry> {
  if (buf.byteLength < 8) throw new Error(`${source}: not a safetensors file (shorter than its 8-byte header length)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > buf.byteLength)
    throw new Error(`${source}: header length ${headerLen} runs past the end of the file`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen)));
  } catch {
    throw new Error(`${source}: header is not valid JSON`);
  }
  if (typeof raw !== 'object' || raw === null) throw new Error(`${source}: header is not a JSON object`);
  const out = new Map<string, SafetensorsEntry>();
  const base = 8 + headerLen;
  for (const [name, value] of Object.entries(raw)) {
    if (name === '__metadata__') continue;
    const parsed = HeaderEntry.safeParse(value);
    if (!parsed.success) throw new Error(`${source}: tensor "${name}" has a malformed header entry`);
    const {
      dtype,
      shape,
      data_offsets: [begin, end],
    } = parsed.data;
    const count = shape.reduce((a, b) => a * b, 1);
    const width = dtype === 'F32' ? 4 : dtype === 'I64' ? 8 : 0;
    if (width === 0)
      throw new Error(`${source}: tensor "${name}" has unsupported dtype ${dtype} (F32 or I64 expected)`);
    if (end - begin !== count * width || base + end > buf.byteLength) {
      throw new Error(
        `${source}: tensor "${name}" data range [${begin}, ${end}) disagrees with its shape or the file size`,
      );
    }
    // copy: a Node Buffer's slice() shares memory and its .buffer is the whole pool
    const bytes = new Uint8Array(end - begin);
    bytes.set(buf.subarray(base + begin, base + end));
    const data = dtype === 'F32' ? new Float32Array(bytes.buffer) : new BigInt64Array(bytes.buffer);
    out.set(name, { dtype: dtype as 'F32' | 'I64', dims: shape, data });
  }
  return out;
}
