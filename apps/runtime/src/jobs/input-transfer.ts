import { mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';

// Input images travel with a job: read from the server's input folder (real paths inside it only), written into a
// worker's staging input folder under the same relative name, so Load Image finds them there.

/** A relative path with no empty, `.` or `..` segment and no hidden file: the only names that travel. */
export function plainRelative(file: string): boolean {
  return !path.isAbsolute(file) && file.split(/[\\/]/).every((s) => s !== '' && !s.startsWith('.'));
}

/** The files that exist inside the folder; the others are left out (Load Image then names the missing file). */
export async function readInputs(dir: string, files: readonly string[]): Promise<{ file: string; data: string }[]> {
  const out: { file: string; data: string }[] = [];
  let root: string;
  try {
    root = await realpath(dir);
  } catch {
    return out;
  }
  for (const file of files) {
    if (!plainRelative(file)) continue;
    try {
      const real = await realpath(path.join(root, file));
      if (!real.startsWith(root + path.sep)) continue;
      out.push({ file, data: (await readFile(real)).toString('base64') });
    } catch {
      // not there: the worker's Load Image reports it
    }
  }
  return out;
}

export async function writeInputs(dir: string, inputs: readonly { file: string; data: string }[]): Promise<void> {
  for (const { file, data } of inputs) {
    if (!plainRelative(file)) continue;
    const target = path.join(dir, file);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, Buffer.from(data, 'base64'));
  }
}
