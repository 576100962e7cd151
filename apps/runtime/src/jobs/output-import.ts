import { readdirSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { nextStemAmong, splitOutputName } from '../backend/output-files.ts';
import type { JobStore } from './job-store.ts';
import type { WireFile } from './redis-wire.ts';

// Files that `sdflow worker` processes made, written into this server's output folder (no shared disk needed).
// Each (run, worker file) pair gets one name here, recorded in the job store before the file is written: a run
// that executes again on another worker overwrites its own file, never adds a second one.

export class OutputImport {
  constructor(
    private readonly store: JobStore,
    private readonly outputDir: string,
  ) {}

  /** This server's name for a worker's file of the run (allocated on first sight). */
  nameOf(runId: string, source: string): string {
    return this.store.fileName(runId, source, (taken) => this.allocate(source, taken));
  }

  /** Writes the file whole (temporary name, then rename) and returns its name here. */
  async write(runId: string, file: WireFile): Promise<string> {
    const name = this.nameOf(runId, file.source);
    await mkdir(this.outputDir, { recursive: true });
    const tmp = path.join(this.outputDir, `.sdflow-${crypto.randomUUID()}.tmp`);
    await writeFile(tmp, Buffer.from(file.data, 'base64'));
    await rename(tmp, path.join(this.outputDir, name));
    return name;
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
