import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

// Builds apps/editor when dist/ is missing or older than any source file (output captured, never printed).

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export function editorIsStale(repoRoot: string): boolean {
  const editor = path.join(repoRoot, 'apps/editor');
  const built = path.join(editor, 'dist/index.html');
  if (!existsSync(built)) return true;
  const sources = [
    path.join(editor, 'src'),
    path.join(editor, 'public'),
    path.join(repoRoot, 'nodes/src'),
    path.join(repoRoot, 'workflows'),
  ];
  const newest = Math.max(
    ...sources.filter(existsSync).map(newestMtime),
    statSync(path.join(editor, 'index.html')).mtimeMs,
    statSync(path.join(editor, 'vite.config.ts')).mtimeMs,
  );
  return newest > statSync(built).mtimeMs;
}

export async function ensureEditorBuilt(repoRoot: string): Promise<void> {
  if (!editorIsStale(repoRoot)) return;
  const editor = path.join(repoRoot, 'apps/editor');
  const vite = path.join(repoRoot, 'node_modules/vite/bin/vite.js');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build', '--logLevel', 'error'], {
      cwd: editor,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`editor build failed (exit ${code}):\n${output}`)),
    );
  });
}
