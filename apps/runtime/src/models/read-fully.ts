import { readSync } from 'node:fs';

/** Fills `into` from `fd` at `position`, in reads of at most 1 GiB (one readSync call takes less than 2 GiB).
 *  Returns the bytes read: fewer than `into.length` when the file ends first. */
export function readFully(fd: number, into: Uint8Array, position: number): number {
  let done = 0;
  while (done < into.length) {
    const got = readSync(fd, into, done, Math.min(into.length - done, 1 << 30), position + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}
