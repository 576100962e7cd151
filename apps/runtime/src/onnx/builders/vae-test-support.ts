import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemorySource } from '../../models/memory-source.ts';

// Test support for the VAE/TAESD builder tests: fixture paths, a whole-file float32 safetensors read
// (fixture files are small), and the relative error the issue measures.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
export const fixtureDir = path.resolve(repoRoot, '../shared/fixtures/sdxl-tiny');

export interface HostTensor {
  dims: number[];
  data: Float32Array;
}

export function readF32Safetensors(file: string): Record<string, HostTensor> {
  const buf = readFileSync(file);
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__' || t.dtype !== 'F32') continue;
    const [a, b] = t.data_offsets;
    const bytes = buf.subarray(8 + headerLen + a, 8 + headerLen + b);
    out[name] = {
      dims: t.shape,
      data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
    };
  }
  return out;
}

export function fixtureComponent(dir: 'vae' | 'vae_tiny'): { config: unknown; weights: MemorySource } {
  const folder = path.join(fixtureDir, dir);
  return {
    config: JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8')),
    weights: new MemorySource(readF32Safetensors(path.join(folder, 'diffusion_pytorch_model.safetensors')), folder),
  };
}

export function vaeReferences(): Record<string, HostTensor> {
  return readF32Safetensors(path.join(fixtureDir, 'references/vae.safetensors'));
}

/** ‖out − ref‖ / ‖ref‖ */
export function relativeError(out: Float32Array, ref: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += ((out[i] as number) - (ref[i] as number)) ** 2;
    den += (ref[i] as number) ** 2;
  }
  return Math.sqrt(num / den);
}
