import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

// Stable identity of weight files without reading them: path, size and modification time of each file.

export function folderWeightsKey(dir: string, pattern = /\.(safetensors|onnx|onnx_data|data|json|txt)$/): string {
  const hash = createHash('sha256');
  hash.update(path.resolve(dir));
  let names: string[] = [];
  try {
    names = readdirSync(dir)
      .filter((n) => pattern.test(n))
      .sort();
  } catch {
    // a missing folder keys on its path alone; loading it reports the error
  }
  for (const name of names) {
    const st = statSync(path.join(dir, name));
    hash.update(`\0${name}\0${st.size}\0${Math.round(st.mtimeMs)}`);
  }
  return hash.digest('hex').slice(0, 32);
}

export function combineKeys(...keys: string[]): string {
  return createHash('sha256').update(keys.join('\0')).digest('hex').slice(0, 32);
}
