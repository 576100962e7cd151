import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { HttpError } from './http-io.ts';
import { outputNameProblem } from './output-files.ts';

// An image uploaded for Load Image, written into the input folder: checked to be a PNG, JPEG or WebP that decodes,
// under a safe flat name; a name already taken gets a counter, so an upload never replaces another picture.

const FORMATS = new Set(['png', 'jpeg', 'webp']);

export async function saveInputImage(inputDir: string, wanted: string, bytes: Buffer): Promise<string> {
  const problem = outputNameProblem(wanted);
  if (problem) throw new HttpError(400, 'badFileName', `input file ${JSON.stringify(wanted)}: ${problem}`);
  let format: string | undefined;
  try {
    format = (await sharp(bytes).metadata()).format;
  } catch {
    format = undefined;
  }
  if (!format || !FORMATS.has(format)) {
    throw new HttpError(415, 'notAnImage', `input file ${JSON.stringify(wanted)} is not a PNG, JPEG or WebP image`);
  }
  await mkdir(inputDir, { recursive: true });
  const tmp = path.join(inputDir, `.sdflow-${crypto.randomUUID()}.tmp`);
  await writeFile(tmp, bytes);
  const ext = path.extname(wanted);
  const stem = wanted.slice(0, wanted.length - ext.length);
  try {
    for (let i = 0; ; i++) {
      const name = i === 0 ? wanted : `${stem}_${i}${ext}`;
      try {
        // A link fails where the name exists: the first free name wins, whole, with no window for a half file.
        await link(tmp, path.join(inputDir, name));
        return name;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || i >= 10_000) throw err;
      }
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
