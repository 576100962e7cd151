// safetensors: the lazy reader of model weights (parses the header once, then reads one tensor at a time at its
// offset), the whole-buffer decoder of small files, and the writer.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { bf16ToF32, f16ToF32, f32ToF16 } from '../onnx/float16.ts';
import { readFully } from './read-fully.ts';
import { checkLength, type ReadIntoOptions, rowsCols, transposeInto, type WeightBuffer } from './weight-buffer.ts';

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

/**
 * The one safetensors header parser (the lazy reader here and decodeSafetensors use it): the header's JSON, checked
 * against each tensor's dtype and shape and the file's size; offsets made absolute. Errors name `source`.
 */
export function parseSafetensorsHeader(
  json: Uint8Array,
  size: number,
  source: string,
): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string> } {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(json)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${source}: bad safetensors header (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${source}: bad safetensors header (not a JSON object)`);
  }
  const base = 8 + json.byteLength;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const e = (raw ?? {}) as { dtype?: string; shape?: number[]; data_offsets?: number[] };
    const dtype = e.dtype as SafetensorsDType;
    if (!Object.hasOwn(BYTES, dtype))
      throw new Error(`${source}: tensor '${name}' has unsupported dtype ${String(e.dtype)}`);
    const [b, en] = e.data_offsets ?? [];
    if (
      !Array.isArray(e.shape) ||
      !e.shape.every((d) => Number.isInteger(d) && d >= 0) ||
      typeof b !== 'number' ||
      typeof en !== 'number'
    )
      throw new Error(`${source}: bad safetensors header entry for tensor '${name}'`);
    const numel = e.shape.reduce((a, c) => a * c, 1);
    if (en - b !== numel * BYTES[dtype])
      throw new Error(`${source}: tensor '${name}' has ${en - b} bytes for shape [${e.shape.join(', ')}] ${dtype}`);
    if (base + en > size)
      throw new Error(
        `${source}: truncated safetensors file: tensor '${name}' ends at byte ${base + en}, file has ${size}`,
      );
    entries.set(name, { dtype, shape: e.shape, begin: base + b, end: base + en });
  }
  return { entries, metadata };
}

/** A float32 or int64 tensor decoded from a whole in-memory file (latents, the embedding cache, references). */
export interface DecodedTensor {
  readonly dtype: 'F32' | 'I64';
  readonly dims: number[];
  readonly data: Float32Array | BigInt64Array;
}

/** Decodes a whole safetensors buffer of F32 and I64 tensors (copies: the result outlives the buffer). */
export function decodeSafetensors(buf: Uint8Array, source: string): Map<string, DecodedTensor> {
  if (buf.byteLength < 8) throw new Error(`${source}: not a safetensors file (shorter than its 8-byte header length)`);
  const headerLen = Number(new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > buf.byteLength)
    throw new Error(`${source}: truncated safetensors file (header of ${headerLen} bytes, file of ${buf.byteLength})`);
  const { entries } = parseSafetensorsHeader(buf.subarray(8, 8 + headerLen), buf.byteLength, source);
  const out = new Map<string, DecodedTensor>();
  for (const [name, e] of entries) {
    if (e.dtype !== 'F32' && e.dtype !== 'I64')
      throw new Error(`${source}: tensor "${name}" has unsupported dtype ${e.dtype} (F32 or I64 expected)`);
    // copy: a Node Buffer's slice() shares memory and its .buffer is the whole pool
    const bytes = new Uint8Array(e.end - e.begin);
    bytes.set(buf.subarray(e.begin, e.end));
    const data = e.dtype === 'F32' ? new Float32Array(bytes.buffer) : new BigInt64Array(bytes.buffer);
    out.set(name, { dtype: e.dtype, dims: [...e.shape], data });
  }
  return out;
}

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
      const { entries, metadata } = parseSafetensorsHeader(hbuf, size, path);
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

  /** The tensor's bytes, read into `into` when given (exactly its size) else into a fresh 8-byte-aligned buffer. */
  private readBytes(name: string, into?: Uint8Array): { e: SafetensorsEntry; buf: Uint8Array } {
    const e = this.entry(name);
    const n = e.end - e.begin;
    // a fresh buffer is allocated with 8-byte alignment so typed views over it are valid
    const buf = into ?? new Uint8Array(new ArrayBuffer(Math.ceil(n / 8) * 8), 0, n);
    const fd = openSync(this.path, 'r');
    try {
      if (readFully(fd, buf, e.begin) < n)
        throw new Error(`${this.path}: truncated safetensors file while reading tensor '${name}'`);
    } finally {
      closeSync(fd);
    }
    return { e, buf };
  }

  /** A float tensor as float32 (f16 / bf16 converted). */
  readFloat32(name: string): Float32Array {
    const { e, buf } = this.readBytes(name);
    return this.toFloat32(name, e, buf);
  }

  /**
   * A float tensor written into dst in dst's dtype (transposed when asked): F16 into float16 and F32 into
   * float32 are read from disk straight into dst; other pairs go through a reused staging buffer.
   */
  readInto(name: string, dst: WeightBuffer, opts: ReadIntoOptions = {}): void {
    const e = this.entry(name);
    checkLength(this.path, name, e.shape, dst);
    const same = (e.dtype === 'F16' && dst.dtype === 'float16') || (e.dtype === 'F32' && dst.dtype === 'float32');
    if (same && !opts.transpose) {
      this.readBytes(name, new Uint8Array(dst.data.buffer, dst.data.byteOffset, dst.data.byteLength));
      return;
    }
    const { buf } = this.readBytes(name, scratchBytes(e.end - e.begin));
    const n = dst.data.length;
    const into = opts.transpose ? undefined : dst.data;
    let values: Float32Array | Uint16Array;
    if (same) values = e.dtype === 'F16' ? new Uint16Array(buf.buffer, 0, n) : new Float32Array(buf.buffer, 0, n);
    else if (dst.dtype === 'float16') values = f32ToF16(this.toFloat32(name, e, buf), into as Uint16Array | undefined);
    else if (e.dtype === 'F16') values = f16ToF32(new Uint16Array(buf.buffer, 0, n), into as Float32Array | undefined);
    else if (e.dtype === 'BF16')
      values = bf16ToF32(new Uint16Array(buf.buffer, 0, n), into as Float32Array | undefined);
    else values = this.toFloat32(name, e, buf);
    if (opts.transpose) {
      const [rows, cols] = rowsCols(this.path, name, e.shape);
      transposeInto(values, dst.data, rows, cols);
    } else if (values !== dst.data) dst.data.set(values);
  }

  private toFloat32(name: string, e: SafetensorsEntry, buf: Uint8Array): Float32Array {
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

// readInto's staging buffer, reused across tensors (fresh multi-MB buffers per tensor cost page faults and
// zeroing); it grows to the largest tensor that needs staging. Nothing returned to callers points into it.
let scratch = new ArrayBuffer(0);
function scratchBytes(n: number): Uint8Array {
  if (scratch.byteLength < n) scratch = new ArrayBuffer(Math.ceil(n / 8) * 8);
  return new Uint8Array(scratch, 0, n);
}

/** A tensor to write: F32 or I64 by its array; a Uint16Array holds F16 or BF16 bits, as `dtype` says. */
export type EncodableTensor =
  | { readonly dims: readonly number[]; readonly data: Float32Array | BigInt64Array }
  | { readonly dims: readonly number[]; readonly data: Uint16Array; readonly dtype: 'F16' | 'BF16' };

/** Writes a safetensors file in memory: latents, the embedding cache, test files, small exports. */
export function encodeSafetensors(
  tensors: Record<string, EncodableTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let off = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const dtype = 'dtype' in t ? t.dtype : t.data instanceof Float32Array ? 'F32' : 'I64';
    header[name] = { dtype, shape: [...t.dims], data_offsets: [off, off + bytes.length] };
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
