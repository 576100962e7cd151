import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Starts the real runtime (`sdflow serve`) as a child process and waits for its "listening on" line.

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixtureDir = path.resolve(repoRoot, '../shared/fixtures/sdxl-tiny');
const BIN = path.join(repoRoot, 'apps/runtime/bin/sdflow.mjs');
const LISTENING = /sdflow listening on (http:\/\/\S+)/;

export interface Dirs {
  readonly root: string;
  readonly models: string;
  readonly output: string;
  readonly input: string;
  readonly cache: string;
}

/** A temp folder with models/ (holding a `tiny` link to the fixture), output/, input/ and cache/. */
export async function makeDirs(): Promise<Dirs & { remove(): Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), 'sdflow-it-'));
  const dirs = {
    root,
    models: path.join(root, 'models'),
    output: path.join(root, 'output'),
    input: path.join(root, 'input'),
    cache: path.join(root, 'cache'),
  };
  await Promise.all([mkdir(dirs.models), mkdir(dirs.output), mkdir(dirs.input), mkdir(dirs.cache)]);
  await symlink(fixtureDir, path.join(dirs.models, 'tiny'), 'dir');
  return { ...dirs, remove: () => rm(root, { recursive: true, force: true }) };
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the process wrote, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** kill -9: no chance to tidy up, as in a crash or a power cut. */
  kill9(): Promise<void>;
}

export async function startServer(dirs: Dirs, extraArgs: readonly string[] = []): Promise<ServerProcess> {
  const args = [
    'serve',
    '--port',
    '0',
    '--models',
    dirs.models,
    '--output',
    dirs.output,
    '--input',
    dirs.input,
    '--cache',
    dirs.cache,
    '--device',
    'cpu',
    ...extraArgs,
  ];
  return startProcess(args, LISTENING);
}

/** Starts `sdflow <args>` and waits for the line `ready` matches; its first group is the process's URL, if any. */
export async function startProcess(cliArgs: readonly string[], ready: RegExp): Promise<ServerProcess> {
  const args = [BIN, ...cliArgs];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`sdflow ${cliArgs[0]} did not start within 60 s:\n${out}`)),
      60_000,
    );
    const onData = () => {
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ?? '');
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sdflow ${cliArgs[0]} exited with code ${code} before it was ready:\n${out}`));
    });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    url,
    port: url ? Number(new URL(url).port) : 0,
    child,
    logs: () => out,
    exited,
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
    async kill9() {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs a command that must fail at startup (e.g. a non-loopback host without a token); resolves with its output. */
export function runToExit(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output: out });
    });
  });
}
