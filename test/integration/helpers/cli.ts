import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from './server-process.ts';

// The real `sdflow` command as a child process, and the run report it points to.

const BIN = path.join(repoRoot, 'apps/runtime/bin/sdflow.mjs');

export function sdflow(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The run report whose path `sdflow run` printed ("report: <path>"). */
export async function readReport<T>(stdout: string): Promise<T> {
  const line = stdout.split('\n').find((l) => l.startsWith('report: '));
  if (!line) throw new Error(`no report path in:\n${stdout}`);
  return JSON.parse(await readFile(line.slice('report: '.length), 'utf8')) as T;
}
