import { mkdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from './exit-codes.ts';

// The output folder is checked before any work: created level by level (a recursive mkdir under /proc never
// returns) and written to once, so an unusable folder fails at once with exit 2, not after the pipeline ran.

/** Creates `dir` if needed and proves it writable; throws UsageError saying why it cannot be used. */
export async function prepareOutputDir(dir: string, flag = '--out'): Promise<void> {
  const fail = (why: string): never => {
    throw new UsageError(`${flag} ${dir}: ${why}`);
  };
  const missing: string[] = [];
  let existing = path.resolve(dir);
  for (;;) {
    const info = await stat(existing).catch((err: NodeJS.ErrnoException) => err);
    if (!(info instanceof Error)) {
      if (!info.isDirectory()) fail(`${existing} is a file, not a folder`);
      break;
    }
    // ENOTDIR: a file further up, named when the climb reaches it
    if (info.code !== 'ENOENT' && info.code !== 'ENOTDIR') fail(`cannot be read (${describe(info)})`);
    const parent = path.dirname(existing);
    if (parent === existing) fail('no part of the path exists');
    missing.unshift(existing);
    existing = parent;
  }
  for (const level of missing) {
    await mkdir(level).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') fail(`cannot create ${level} (${describe(err)})`);
    });
  }
  const probe = path.join(dir, `.sdflow-write-test-${process.pid}`);
  await writeFile(probe, '').catch((err: NodeJS.ErrnoException) => fail(`cannot write there (${describe(err)})`));
  await unlink(probe).catch(() => undefined);
}

function describe(err: NodeJS.ErrnoException): string {
  const known: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'not permitted',
    EROFS: 'read-only file system',
    ENOENT: 'this file system does not allow folders there',
    ENOSPC: 'no space left',
    ENOTDIR: 'a part of the path is a file',
  };
  return (err.code !== undefined && Object.hasOwn(known, err.code) ? known[err.code] : err.code) ?? err.message;
}
