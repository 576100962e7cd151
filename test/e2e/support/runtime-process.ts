import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// The real runtime as a child process (`sdflow serve`), with its own models and output folders.

export interface RuntimeDirs {
  readonly root: string;
  readonly models: string;
  readonly out: string;
}

export interface RuntimeProcess {
  readonly url: string;
  readonly port: number;
  readonly dirs: RuntimeDirs;
  /** Everything the process wrote, for error messages. */
  log(): string;
  /** Ends the process and waits for it, keeping its folders (a restart may reuse them). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Ends the process and removes its folders. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** 0 (default) = any free port. A fixed port still held by a process that just ended is retried. */
  readonly port?: number;
  /** Folders of an earlier runtime to reuse (a restart); default fresh ones. */
  readonly dirs?: RuntimeDirs;
  readonly timeoutMs?: number;
}

const URL_PATTERN = /https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)/;
const PORT_BUSY = /EADDRINUSE/;

export async function startRuntime(repoRoot: string, opts: StartOptions = {}): Promise<RuntimeProcess> {
  const dirs = opts.dirs ?? (await freshDirs());
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    const started = await spawnRuntime(repoRoot, dirs, opts.port ?? 0, deadline);
    if (started.ok) return started.runtime;
    // Binding a port that was just released can lose a race with the old socket's teardown: try again.
    const busy = opts.port !== undefined && opts.port !== 0 && PORT_BUSY.test(started.output);
    if (!busy || Date.now() > deadline) throw new Error(started.output);
    await sleep(200);
  }
}

async function freshDirs(): Promise<RuntimeDirs> {
  const root = await mkdtemp(path.join(tmpdir(), 'sdflow-e2e-'));
  return { root, models: path.join(root, 'models'), out: path.join(root, 'out') };
}

type Spawned = { ok: true; runtime: RuntimeProcess } | { ok: false; output: string };

async function spawnRuntime(repoRoot: string, dirs: RuntimeDirs, port: number, deadline: number): Promise<Spawned> {
  const args = ['serve', '--port', String(port), '--models', dirs.models, '--out', dirs.out];
  const child: ChildProcess = spawn(
    process.execPath,
    [
      'apps/runtime/bin/sdflow.mjs',
      ...args,
      '--cache',
      path.join(dirs.root, 'cache'),
      '--input',
      path.join(dirs.root, 'input'),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = await new Promise<number | undefined>((resolve) => {
    const timer = setTimeout(() => {
      output += `\nruntime did not report its URL within the time allowed`;
      child.kill('SIGKILL');
      resolve(undefined);
    }, deadline - Date.now());
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = URL_PATTERN.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      output += `\nruntime exited (code ${code}) before listening`;
      resolve(undefined);
    });
  });
  if (listening === undefined) {
    await exited;
    return { ok: false, output };
  }
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    ok: true,
    runtime: {
      url: `http://127.0.0.1:${listening}`,
      port: listening,
      dirs,
      log: () => output,
      kill,
      async stop() {
        await kill();
        await rm(dirs.root, { recursive: true, force: true });
      },
    },
  };
}

/** Uses a runtime that is already listening (SDFLOW_E2E_URL, for working on the editor); stop() leaves it running. */
export async function attachRuntime(url: string): Promise<RuntimeProcess> {
  const dirs = await freshDirs();
  return {
    url: url.replace(/\/$/, ''),
    port: Number(new URL(url).port),
    dirs,
    log: () => '',
    kill: async () => {
      throw new Error('an attached runtime (SDFLOW_E2E_URL) cannot be stopped by the tests');
    },
    stop: () => rm(dirs.root, { recursive: true, force: true }),
  };
}
