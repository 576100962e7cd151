import { readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Images, Latent } from '@sdflow/nodes/values.ts';
import sharp from 'sharp';
import { decodeSafetensors, encodeSafetensors } from '../models/safetensors.ts';
import { asciiJson, insertPngText } from './png-workflow.ts';
import { writeNewFile } from './write-new-file.ts';

// Save Image / Save Latent / Load Latent: files live only in the output folder, names are checked.

const LATENT_SUFFIX = '.latent.safetensors';

/** A filename prefix reduced to safe characters (no separators, no dot-dot). */
export function safePrefix(prefix: string): string {
  const cleaned = prefix.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 64);
  return cleaned === '' ? 'sdflow' : cleaned;
}

/** Next free `${prefix}_NNNNN` stem among `names` (the counter continues after the highest one). */
export function nextStemAmong(names: Iterable<string>, prefix: string): string {
  const re = new RegExp(`^${prefix}_(\\d{5,})[._]`);
  let max = 0;
  for (const n of names) {
    const m = re.exec(n);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `${prefix}_${String(max + 1).padStart(5, '0')}`;
}

/** Next free `${prefix}_NNNNN` stem in the folder. */
async function nextStem(dir: string, prefix: string): Promise<string> {
  return nextStemAmong(await readdir(dir).catch(() => [] as string[]), prefix);
}

/** A saved file's name split into its prefix and what follows the counter (`_.png`, `.latent.safetensors`). */
export function splitOutputName(name: string): { prefix: string; suffix: string } | undefined {
  const m = /^([A-Za-z0-9_-]{1,64})_\d{5,}(_\.png|\.latent\.safetensors)$/.exec(name);
  return m ? { prefix: m[1]!, suffix: m[2]! } : undefined;
}

/** Writes `bytes` as the next free `${prefix}_NNNNN${suffix}`, whole, the counter read again after each name taken. */
function publish(dir: string, prefix: string, suffix: string, bytes: Uint8Array): Promise<string> {
  return writeNewFile(dir, bytes, async () => `${await nextStem(dir, prefix)}${suffix}`);
}

export class OutputFiles {
  // one save at a time, so two saves never pick the same counter
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  saveImage(image: Images, index: number, prefix: string, workflowJson: string): Promise<string> {
    return this.serial(async () => {
      const [b, h, w, c] = image.images.dims as [number, number, number, number];
      if (c !== 3 || index < 0 || index >= b)
        throw new Error(`saveImage: no image ${index} in [${image.images.dims.join(', ')}]`);
      const plane = h * w * 3;
      const rgb = Buffer.alloc(plane);
      const src = image.images.data;
      for (let i = 0; i < plane; i++) rgb[i] = Math.round(Math.min(1, Math.max(0, src[index * plane + i]!)) * 255);
      const png = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
        .png()
        .toBuffer();
      const withText = insertPngText(png, 'workflow', asciiJson(workflowJson));
      return publish(this.dir, safePrefix(prefix), '_.png', withText);
    });
  }

  saveLatent(latent: Latent, prefix: string): Promise<string> {
    return this.serial(async () => {
      const bytes = encodeSafetensors({ samples: latent.samples }, { kind: latent.kind, producer: 'sdflow' });
      return publish(this.dir, safePrefix(prefix), LATENT_SUFFIX, bytes);
    });
  }

  async loadLatent(name: string): Promise<Latent> {
    if (name !== path.basename(name) || name.startsWith('.') || name.includes('\\') || !name.endsWith('.safetensors')) {
      throw new Error(
        `loadLatent: "${name}" is not a latent file name in the output folder (*.safetensors, no folders)`,
      );
    }
    let file: string;
    try {
      const root = await realpath(this.dir);
      file = await realpath(path.join(root, name));
      // A link planted in the output folder must not read a file elsewhere (as /api/outputs refuses it too).
      if (path.dirname(file) !== root) {
        throw new Error(`loadLatent: "${name}" leads outside the output folder`);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === undefined) throw err;
      throw new Error(`loadLatent: no file "${name}" in the output folder`);
    }
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch {
      throw new Error(`loadLatent: no file "${name}" in the output folder`);
    }
    const entries = decodeSafetensors(buf, name);
    const samples = entries.get('samples');
    if (!samples || !(samples.data instanceof Float32Array) || samples.dims.length !== 4) {
      throw new Error(`loadLatent: ${name} has no float32 [B, C, h, w] tensor "samples"`);
    }
    const kind = readKind(buf);
    return { samples: { dims: samples.dims, data: samples.data }, kind };
  }
}

function readKind(buf: Uint8Array): Latent['kind'] {
  const len = Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + len))) as { __metadata__?: { kind?: string } };
  return header.__metadata__?.kind === 'noise' ? 'noise' : 'image';
}
