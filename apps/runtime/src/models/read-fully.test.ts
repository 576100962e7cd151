import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { readFully } from './read-fully.ts';

it('reads a range at a position, and says how much there was when the file ends first', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sdflow-read-'));
  const file = path.join(dir, 'bytes');
  writeFileSync(
    file,
    Uint8Array.from({ length: 10 }, (_, i) => i),
  );
  const fd = openSync(file, 'r');
  try {
    const a = new Uint8Array(4);
    expect(readFully(fd, a, 3)).toBe(4);
    expect([...a]).toEqual([3, 4, 5, 6]);
    const b = new Uint8Array(6);
    expect(readFully(fd, b, 7)).toBe(3);
    expect([...b.subarray(0, 3)]).toEqual([7, 8, 9]);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
