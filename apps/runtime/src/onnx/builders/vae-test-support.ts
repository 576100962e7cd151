import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MemorySource } from '../../models/memory-source.ts';
import { decodeSafetensors } from '../../models/safetensors.ts';
import { fixtureDir } from '../../sdxl/testing/references.ts';

// Test support for the VAE/TAESD builder tests: fixture weights and references as in-memory float32 tensors.

export { fixtureDir, relativeError } from '../../sdxl/testing/references.ts';

export interface HostTensor {
  dims: number[];
  data: Float32Array;
}

/** The float32 tensors of a small safetensors file (fixture weights and references). */
export function readF32Safetensors(file: string): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [name, t] of decodeSafetensors(readFileSync(file), file))
    if (t.data instanceof Float32Array) out[name] = { dims: t.dims, data: t.data };
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
