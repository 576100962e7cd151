// Where builders get weights from: a diffusers/transformers component folder, or synthetic weights.
// Weight names are the diffusers/transformers state-dict keys.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { SafetensorsFile } from './safetensors.ts';
import { type ReadIntoOptions, type WeightBuffer, writeFloat32 } from './weight-buffer.ts';

export type { ReadIntoOptions, WeightBuffer } from './weight-buffer.ts';

export interface WeightSource {
  /** e.g. the folder path, for errors. */
  readonly description: string;
  has(name: string): boolean;
  dims(name: string): number[] | undefined;
  /** Raw tensor as float32 (converted from f16/bf16), shape-checked; throws an error naming file + tensor. */
  read(name: string, expectedDims: readonly number[]): Float32Array;
  /**
   * Optional fast path: the tensor written straight into dst in dst's dtype (transposed when asked), with no
   * float32 round trip where the source holds that dtype already. Same checks and errors as read.
   * Callers use readWeightInto, which falls back to read for sources without it.
   */
  readInto?(name: string, expectedDims: readonly number[], dst: WeightBuffer, opts?: ReadIntoOptions): void;
}

/** source.readInto when the source has it, else read + convert (+ transpose) into dst. */
export function readWeightInto(
  source: WeightSource,
  name: string,
  expectedDims: readonly number[],
  dst: WeightBuffer,
  opts: ReadIntoOptions = {},
): void {
  if (source.readInto) source.readInto(name, expectedDims, dst, opts);
  else writeFloat32(source.description, name, source.read(name, expectedDims), expectedDims, dst, opts);
}

export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function fmtDims(d: readonly number[]): string {
  return `[${d.join(', ')}]`;
}

export interface SafetensorsSourceOptions {
  /** 'fp16' prefers `*.fp16.safetensors` (falls back to the plain files); absent prefers plain files
   *  (falls back to the fp16 variant when it is the only one). */
  variant?: 'fp16';
}

/** The weights of one component folder: `*.safetensors`, `*.fp16.safetensors`, or a sharded index. */
export class SafetensorsSource implements WeightSource {
  readonly description: string;
  readonly folder: string;
  /** The files in use (absolute paths). */
  readonly files: readonly string[];
  private readonly byName = new Map<string, SafetensorsFile>();

  private constructor(folder: string, files: SafetensorsFile[]) {
    this.folder = folder;
    this.description = folder;
    this.files = files.map((f) => f.path);
    for (const f of files)
      for (const name of f.entries.keys()) {
        const prev = this.byName.get(name);
        if (prev)
          throw new Error(`${folder}: tensor '${name}' is in both ${basename(prev.path)} and ${basename(f.path)}`);
        this.byName.set(name, f);
      }
  }

  /** Opens every file's header (so a truncated or bad file fails here, before any build or inference). */
  static open(folder: string, opts: SafetensorsSourceOptions = {}): SafetensorsSource {
    const dir = resolve(folder);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      throw new Error(
        `${dir}: cannot read component folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    const files = pickFiles(dir, names, opts.variant);
    return new SafetensorsSource(
      dir,
      files.map((f) => SafetensorsFile.open(join(dir, f))),
    );
  }

  /** Whether a folder holds safetensors weights (any variant). */
  static present(folder: string): boolean {
    try {
      return readdirSync(folder).some((n) => n.endsWith('.safetensors'));
    } catch {
      return false;
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  dims(name: string): number[] | undefined {
    const e = this.byName.get(name)?.entries.get(name);
    return e ? [...e.shape] : undefined;
  }

  read(name: string, expectedDims: readonly number[]): Float32Array {
    return this.file(name, expectedDims).readFloat32(name);
  }

  /** f16 files into float16 weights (and f32 into float32) go from disk into dst with no copy. */
  readInto(name: string, expectedDims: readonly number[], dst: WeightBuffer, opts: ReadIntoOptions = {}): void {
    this.file(name, expectedDims).readInto(name, dst, opts);
  }

  private file(name: string, expectedDims: readonly number[]): SafetensorsFile {
    const f = this.byName.get(name);
    if (!f)
      throw new Error(
        `${this.folder}: missing tensor '${name}' (not in ${this.files.map((p) => basename(p)).join(', ')})`,
      );
    const shape = f.entries.get(name)?.shape ?? [];
    if (!sameDims(shape, expectedDims))
      throw new Error(
        `${f.path}: tensor '${name}' has shape ${fmtDims(shape)} but config.json implies ${fmtDims(expectedDims)}`,
      );
    return f;
  }

  /** Tensor names (for export and diagnostics). */
  names(): string[] {
    return [...this.byName.keys()];
  }
}

const FP16 = /\.fp16(-\d+-of-\d+)?\.safetensors$|\.safetensors\.index\.fp16\.json$/;

function pickFiles(dir: string, names: readonly string[], variant: 'fp16' | undefined): string[] {
  const indexes = names.filter((n) => /\.safetensors\.index(\.fp16)?\.json$/.test(n));
  const singles = names.filter((n) => n.endsWith('.safetensors') && !/-\d+-of-\d+\.safetensors$/.test(n));
  const groups = (fp16: boolean): string[][] => {
    const out: string[][] = [];
    for (const ix of indexes.filter((n) => FP16.test(n) === fp16)) out.push(shardsOf(dir, ix));
    const plain = singles.filter((n) => FP16.test(n) === fp16);
    if (plain.length > 0) out.push(plain);
    return out;
  };
  const order = variant === 'fp16' ? [true, false] : [false, true];
  for (const fp16 of order) {
    const g = groups(fp16);
    if (g.length > 1) throw new Error(`${dir}: both a sharded index and single safetensors files; remove one`);
    if (g[0]) return g[0];
  }
  throw new Error(`${dir}: no *.safetensors weights in this folder`);
}

function shardsOf(dir: string, index: string): string[] {
  const p = join(dir, index);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new Error(`${p}: cannot read sharded index (${(e as Error).message})`);
  }
  const map = (parsed as { weight_map?: Record<string, string> }).weight_map;
  if (!map || typeof map !== 'object') throw new Error(`${p}: sharded index has no weight_map`);
  const files = [...new Set(Object.values(map))];
  for (const f of files) if (!existsSync(join(dir, f))) throw new Error(`${p}: shard ${f} is missing from ${dir}`);
  return files;
}
