import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `bytes` into `dir` under the first free name `nameFor(0)`, `nameFor(1)`...: whole under a hidden temporary
 * name first, then linked into place, so no reader (and no restart after a crash) ever sees half a file, and two
 * writers (processes sharing the folder) never take the same name: a link to a name that exists fails, and the
 * next name is tried. After `maxTries` names taken, the last refusal is thrown.
 */
export async function writeNewFile(
  dir: string,
  bytes: Uint8Array,
  nameFor: (attempt: number) => string | Promise<string>,
  maxTries = Number.POSITIVE_INFINITY,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.sdflow-${crypto.randomUUID()}.tmp`);
  await writeFile(tmp, bytes);
  try {
    for (let attempt = 0; ; attempt++) {
      const name = await nameFor(attempt);
      try {
        await link(tmp, path.join(dir, name));
        return name;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt + 1 >= maxTries) throw err;
      }
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
