// Lazy safetensors reader: parses the header once, then reads one tensor at a time at its offset.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { bf16ToF32, f16ToF32 } from '../onnx/float16.ts';

// Every dtype is accepted in a header (checkpoints carry int buffers such as position_ids); reads convert
// F32/F16/BF16/F64 to float32 and I64 to BigInt64Array.
export type SafetensorsDType =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U8'
  | 'BOOL'
  | 'F8_E4M3'
  | 'F8_E5M2';
const BYTES: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

export interface SafetensorsEntry {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** Absolute byte offsets in the file. */
  readonly begin: number;
  readonly end: number;
}

const MAX_HEADER = 100 * 1024 * 1024;

export class SafetensorsFile {
  readonly path: string;
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Record<string, string>;

  private constructor(path: string, entries: Map<string, SafetensorsEntry>, metadata: Record<string, string>) {
    this.path = path;
    this.entries = entries;
    this.metadata = metadata;
  }

  /** Reads and checks the header; a truncated file or a bad header throws an error naming the file. */
  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new Error(
        `${path}: cannot open safetensors file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    try {
      const size = fstatSync(fd).size;
      if (size < 8) throw new Error(`${path}: truncated safetensors file (${size} bytes, no header)`);
      const lenBuf = Buffer.alloc(8);
      readSync(fd, lenBuf, 0, 8, 0);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen > MAX_HEADER) throw new Error(`${path}: bad safetensors header (length ${headerLen})`);
      if (8 + headerLen > size)
        throw new Error(`${path}: truncated safetensors file (header of ${headerLen} bytes, file of ${size})`);
      const hbuf = Buffer.alloc(headerLen);
      readSync(fd, hbuf, 0, headerLen, 8);
      let header: Record<string, unknown>;
      try {
        header = JSON.parse(hbuf.toString('utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`${path}: bad safetensors header (${(e as Error).message})`);
      }
      const base = 8 + headerLen;
      const entries = new Map<string, SafetensorsEntry>();
      let metadata: Record<string, string> = {};
      for (const [name, raw] of Object.entries(header)) {
        if (name === '__metadata__') {
          metadata = (raw ?? {}) as Record<string, string>;
          continue;
        }
        const e = raw as { dtype?: string; shape?: number[]; data_offsets?: number[] };
        const dtype = e.dtype as SafetensorsDType;
        if (!Object.hasOwn(BYTES, dtype))
          throw new Error(`${path}: tensor '${name}' has unsupported dtype ${String(e.dtype)}`);
        const [b, en] = e.data_offsets ?? [];
        if (!Array.isArray(e.shape) || typeof b !== 'number' || typeof en !== 'number')
          throw new Error(`${path}: bad safetensors header entry for tensor '${name}'`);
        const numel = e.shape.reduce((a, c) => a * c, 1);
        if (en - b !== numel * BYTES[dtype])
          throw new Error(`${path}: tensor '${name}' has ${en - b} bytes for shape [${e.shape.join(', ')}] ${dtype}`);
        if (base + en > size)
          throw new Error(
            `${path}: truncated safetensors file: tensor '${name}' ends at byte ${base + en}, file has ${size}`,
          );
        entries.set(name, { dtype, shape: e.shape, begin: base + b, end: base + en });
      }
      return new SafetensorsFile(path, entries, metadata);
    } finally {
      closeSync(fd);
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  private entry(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.path}: no tensor '${name}'`);
    return e;
  }

  private readBytes(name: string): { e: SafetensorsEntry; buf: Buffer } {
    const e = this.entry(name);
    const n = e.end - e.begin;
    // allocate with 8-byte alignment so typed views over the buffer are valid
    const ab = new ArrayBuffer(Math.ceil(n / 8) * 8);
    const buf = Buffer.from(ab, 0, n);
    const fd = openSync(this.path, 'r');
    try {
      let done = 0;
      while (done < n) {
        const got = readSync(fd, buf, done, Math.min(n - done, 1 << 30), e.begin + done);
        if (got === 0) throw new Error(`${this.path}: truncated safetensors file while reading tensor '${name}'`);
        done += got;
      }
    } finally {
      closeSync(fd);
    }
    return { e, buf };
  }

  /** A float tensor as float32 (f16 / bf16 converted). */
  readFloat32(name: string): Float32Array {
    const { e, buf } = this.readBytes(name);
    const n = (e.end - e.begin) / BYTES[e.dtype];
    if (e.dtype === 'F32') return new Float32Array(buf.buffer, 0, n);
    if (e.dtype === 'F16') return f16ToF32(new Uint16Array(buf.buffer, 0, n));
    if (e.dtype === 'BF16') return bf16ToF32(new Uint16Array(buf.buffer, 0, n));
    if (e.dtype === 'F64') return Float32Array.from(new Float64Array(buf.buffer, 0, n));
    throw new Error(`${this.path}: tensor '${name}' is ${e.dtype}, not a float tensor`);
  }

  readInt64(name: string): BigInt64Array {
    const { e, buf } = this.readBytes(name);
    if (e.dtype !== 'I64') throw new Error(`${this.path}: tensor '${name}' is ${e.dtype}, not I64`);
    return new BigInt64Array(buf.buffer, 0, (e.end - e.begin) / 8);
  }
}

/** Writes a safetensors file (tests, export of small tensors). */
export function encodeSafetensors(
  tensors: Record<string, { dims: readonly number[]; data: Float32Array | BigInt64Array }>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  let off = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = {
      dtype: t.data instanceof Float32Array ? 'F32' : 'I64',
      shape: [...t.dims],
      data_offsets: [off, off + bytes.length],
    };
    parts.push(bytes);
    off += bytes.length;
  }
  const raw = new TextEncoder().encode(JSON.stringify(header));
  const h = new Uint8Array(Math.ceil(raw.length / 8) * 8).fill(0x20); // space-padded to 8 bytes, as the spec allows
  h.set(raw);
  const out = new Uint8Array(8 + h.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  let p = 8 + h.length;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
