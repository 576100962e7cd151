import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSafetensors } from '../../models/safetensors.ts';

// Test helper: the sdxl-tiny fixture and its reference tensors (shared/ sits beside the repository).

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
export const fixtureDir = path.resolve(repoRoot, '../shared/fixtures/sdxl-tiny');
export const referencesDir = path.join(fixtureDir, 'references');

export function readReferenceJson<T = unknown>(name: string): T {
  // Python's json writes -Infinity / NaN, which JSON.parse rejects
  const text = readFileSync(path.join(referencesDir, name), 'utf8').replace(/(?<=[:[,]\s*)-?(Infinity|NaN)\b/g, 'null');
  return JSON.parse(text) as T;
}

export function readReferenceTensors(name: string): Map<string, { dims: number[]; data: Float32Array }> {
  const file = path.join(referencesDir, name);
  const entries = decodeSafetensors(readFileSync(file), file);
  const out = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const [k, v] of entries) {
    if (v.data instanceof Float32Array) out.set(k, { dims: v.dims, data: v.data });
  }
  return out;
}

export function reference(map: Map<string, { dims: number[]; data: Float32Array }>, key: string) {
  const t = map.get(key);
  if (!t) throw new Error(`reference tensor "${key}" missing`);
  return t;
}

/** ‖a − b‖ / ‖b‖ */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    num += d * d;
    den += b[i]! * b[i]!;
  }
  return Math.sqrt(num) / Math.sqrt(den || 1);
}
