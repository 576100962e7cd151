import { readdirSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { nextStemAmong, splitOutputName } from '../backend/output-files.ts';
import type { JobStore } from './job-store.ts';

// Files that `sdflow worker` processes made, written into this server's output folder (no shared disk needed).
// Each worker file gets one name here, recorded in the job store before the file is written. A run that starts
// again (its worker was lost) first has the files of its cut-short attempt removed, so it never leaves two.

export class OutputImport {
  constructor(
    private readonly store: JobStore,
    private readonly outputDir: string,
  ) {}

  /** This server's name for a worker's file (allocated on first sight); `origin` names the worker's life. */
  nameOf(origin: string, runId: string, source: string): string {
    return this.store.fileName(`${origin}/${source}`, runId, (taken) => this.allocate(source, taken));
  }

  /** The name of a file shipped before (a run served from the worker's cache names it), if any. */
  known(origin: string, source: string): string | undefined {
    return this.store.knownFile(`${origin}/${source}`);
  }

  /** Writes the file whole (temporary name, then rename) and returns its name here. */
  async write(origin: string, runId: string, source: string, data: string): Promise<string> {
    const name = this.nameOf(origin, runId, source);
    await mkdir(this.outputDir, { recursive: true });
    const tmp = path.join(this.outputDir, `.sdflow-${crypto.randomUUID()}.tmp`);
    await writeFile(tmp, Buffer.from(data, 'base64'));
    await rename(tmp, path.join(this.outputDir, name));
    return name;
  }

  /** Removes what a cut-short attempt of the run shipped. */
  async discard(runId: string): Promise<void> {
    for (const name of this.store.dropFiles(runId)) await rm(path.join(this.outputDir, name), { force: true });
  }

  private allocate(source: string, taken: (name: string) => boolean): string {
    const parts = splitOutputName(source) ?? { prefix: 'sdflow', suffix: suffixOf(source) };
    const names = new Set(readdirSync(this.outputDir, { withFileTypes: false }) as string[]);
    for (;;) {
      const name = `${nextStemAmong(names, parts.prefix)}${parts.suffix}`;
      if (!taken(name) && !names.has(name)) return name;
      names.add(name);
    }
  }
}

/** What a name not made by Save Image / Save Latent keeps: its extension, when it is a plain one. */
function suffixOf(source: string): string {
  const ext = path.extname(source).toLowerCase();
  return /^\.[a-z0-9]{1,10}$/.test(ext) ? `_${ext}` : '_.bin';
}
