import path from 'node:path';
import sharp from 'sharp';
import { writeNewFile } from '../backend/write-new-file.ts';
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
  const ext = path.extname(wanted);
  const stem = wanted.slice(0, wanted.length - ext.length);
  return writeNewFile(inputDir, bytes, (i) => (i === 0 ? wanted : `${stem}_${i}${ext}`), 10_000);
}
