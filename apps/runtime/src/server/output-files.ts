import { createReadStream } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { HttpError } from './http-io.ts';

// Serves images from the output folder only: flat names, image extensions, no link may lead outside it.

const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Why a requested output name is refused, or undefined when it is acceptable. */
export function outputNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'empty file name';
  if (name.includes('/') || name.includes('\\')) return 'file names may not contain path separators';
  if (name.includes('..')) return 'file names may not contain ".."';
  if (name.includes('\0')) return 'file names may not contain NUL';
  if (!SAFE_NAME.test(name))
    return 'file names are letters, digits, ".", "_" and "-" (starting with a letter or digit)';
  if (!(path.extname(name).toLowerCase() in IMAGE_TYPES)) return 'only images (.png, .jpg, .jpeg, .webp) are served';
  return undefined;
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Serves an image of the output folder (or, with `label` "input", of the input folder). */
export async function serveOutputFile(
  outputDir: string,
  rawName: string,
  res: ServerResponse,
  label: 'output' | 'input' = 'output',
): Promise<void> {
  let name: string;
  try {
    name = decodeURIComponent(rawName);
  } catch {
    throw new HttpError(400, 'badFileName', `${label} file name ${JSON.stringify(rawName)} is not valid URL encoding`);
  }
  const problem = outputNameProblem(name);
  if (problem) throw new HttpError(400, 'badFileName', `${label} file ${JSON.stringify(name)}: ${problem}`);
  let real: string;
  let root: string;
  try {
    root = await realpath(outputDir);
    real = await realpath(path.join(root, name));
  } catch {
    throw new HttpError(404, 'notFound', `${label} file ${JSON.stringify(name)} does not exist`);
  }
  if (!isInside(root, real)) {
    throw new HttpError(
      403,
      'outsideOutputDir',
      `${label} file ${JSON.stringify(name)} leads outside the ${label} folder`,
    );
  }
  const info = await stat(real);
  if (!info.isFile()) throw new HttpError(404, 'notFound', `${label} file ${JSON.stringify(name)} is not a file`);
  res.writeHead(200, {
    'content-type': IMAGE_TYPES[path.extname(name).toLowerCase()]!,
    'content-length': info.size,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
    'content-security-policy': "default-src 'none'",
    // Generated images are the user's own: other sites may not embed them (a cross-site <img> would load them).
    'cross-origin-resource-policy': 'same-origin',
  });
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(real);
    stream.on('error', reject);
    stream.on('end', resolve);
    stream.pipe(res);
  });
}

export interface OutputEntry {
  readonly name: string;
  readonly bytes: number;
  readonly modifiedMs: number;
}

/** Images in the output folder, newest first. */
export async function listOutputs(outputDir: string, max = 500): Promise<OutputEntry[]> {
  let names: string[];
  try {
    names = await readdir(outputDir);
  } catch {
    return [];
  }
  const entries: OutputEntry[] = [];
  for (const name of names) {
    if (outputNameProblem(name)) continue;
    try {
      const info = await lstat(path.join(outputDir, name));
      if (info.isFile()) entries.push({ name, bytes: info.size, modifiedMs: info.mtimeMs });
    } catch {
      // vanished between readdir and stat
    }
  }
  entries.sort((a, b) => b.modifiedMs - a.modifiedMs);
  return entries.slice(0, max);
}
