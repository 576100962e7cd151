import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The real runtime as a child process (`sdflow serve --port 0`), with its own models and output folders.

export interface RuntimeProcess {
  readonly url: string;
  readonly dirs: { root: string; models: string; out: string };
  /** Everything the process wrote, for error messages. */
  log(): string;
  stop(): Promise<void>;
}

const URL_PATTERN = /https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)/;

export async function startRuntime(repoRoot: string, timeoutMs = 120_000): Promise<RuntimeProcess> {
  const root = await mkdtemp(path.join(tmpdir(), 'sdflow-e2e-'));
  const dirs = { root, models: path.join(root, 'models'), out: path.join(root, 'out') };
  const child: ChildProcess = spawn(
    process.execPath,
    [
      'apps/runtime/bin/sdflow.mjs',
      'serve',
      '--port',
      '0',
      '--models',
      dirs.models,
      '--out',
      dirs.out,
      '--cache',
      path.join(root, 'cache'),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`runtime did not report its URL within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = URL_PATTERN.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`runtime exited (code ${code}) before listening:\n${output}`));
    });
  });
  return {
    url,
    dirs,
    log: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Uses a runtime that is already listening (SDFLOW_E2E_URL, for working on the editor); stop() leaves it running. */
export async function attachRuntime(url: string): Promise<RuntimeProcess> {
  const root = await mkdtemp(path.join(tmpdir(), 'sdflow-e2e-'));
  return {
    url: url.replace(/\/$/, ''),
    dirs: { root, models: path.join(root, 'models'), out: path.join(root, 'out') },
    log: () => '',
    stop: () => rm(root, { recursive: true, force: true }),
  };
}
