import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { startRedis } from './redis-server.ts';

// `sdflow bench --throughput`: runs per minute through the whole service (HTTP in, files out) with 1, 2, 4...
// `sdflow worker` processes on a real redis-server, and the same through the embedded store; plus the time one run
// takes from POST to its recorded end on each path, whose difference is what the Redis path costs per run.

export const THROUGHPUT_USAGE = `usage: sdflow bench --throughput [options]
  --workers LIST   worker counts to measure (default 1,2,4)
  --runs N         runs queued at once per measurement (default 24)
  --latency N      runs one after another for the per-run time (default 8)
  --model NAME     model of every run (default "default", the built-in test model)
  --models DIR     models directory (default: the runtime's)
  --steps N        denoise steps (default 20)   --size PX   image size (default 64)
  --json FILE      write the figures as JSON`;

const BIN = fileURLToPath(new URL('../../bin/sdflow.mjs', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../../workflows/text-to-image.workflow.json', import.meta.url));

interface Proc {
  readonly child: ChildProcess;
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts a process and waits for the line `ready` matches (its first group, if any, is its URL). */
function launch(cmd: string, args: readonly string[], ready: RegExp): Promise<Proc> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (d: Buffer) => {
    out += d.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start:\n${out}`)), 120_000);
    child.once('exit', (code) => reject(new Error(`${cmd} ${args[1] ?? ''} exited with ${code}:\n${out}`)));
    child.stdout!.on('data', () => {
      const m = ready.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        child,
        url: m[1] ?? '',
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

async function post(url: string, workflow: Workflow): Promise<string> {
  const res = await fetch(`${url}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workflow }),
  });
  if (res.status !== 202) throw new Error(`POST /api/runs: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { runId: string }).runId;
}

/** Waits until every run ended; throws when one did not finish. */
async function ended(url: string, runIds: readonly string[]): Promise<void> {
  const left = new Set(runIds);
  while (left.size > 0) {
    for (const runId of [...left]) {
      const run = (await (await fetch(`${url}/api/history/${runId}`)).json()) as { status: string; error?: string };
      if (run.status === 'queued' || run.status === 'running') continue;
      if (run.status !== 'finished') throw new Error(`run ${runId} ${run.status}: ${run.error ?? ''}`);
      left.delete(runId);
    }
    if (left.size > 0) await new Promise((r) => setTimeout(r, 20));
  }
}

interface Figures {
  readonly path: string;
  readonly workers: number;
  readonly runs: number;
  readonly seconds: number;
  readonly runsPerMinute: number;
}

export async function throughputBench(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--throughput'),
    options: {
      workers: { type: 'string', default: '1,2,4' },
      runs: { type: 'string', default: '24' },
      latency: { type: 'string', default: '8' },
      model: { type: 'string', default: 'default' },
      models: { type: 'string' },
      steps: { type: 'string', default: '20' },
      size: { type: 'string', default: '64' },
      json: { type: 'string' },
    },
  });
  const counts = values.workers.split(',').map(Number);
  const runs = Number(values.runs);
  const latencyRuns = Number(values.latency);
  const root = await mkdtemp(path.join(tmpdir(), 'sdflow-throughput-'));
  const models = path.resolve(values.models ?? 'models');
  let seed = 0;
  const base = JSON.parse(await readFile(EXAMPLE, 'utf8')) as Workflow;
  const workflow = (): Workflow => {
    const wf = structuredClone(base);
    for (const node of Object.values(wf.nodes)) {
      if (node.type === 'loadModel') Object.assign(node.params, { model: values.model, device: 'cpu' });
      if (node.type === 'emptyLatent')
        Object.assign(node.params, { width: Number(values.size), height: Number(values.size) });
      // A new seed per run: nothing is served from a cache.
      if (node.type === 'unetDenoise') Object.assign(node.params, { steps: Number(values.steps), seed: ++seed });
    }
    return wf;
  };
  const serve = (name: string, extra: string[]) =>
    launch(
      process.execPath,
      [
        BIN,
        'serve',
        '--port',
        '0',
        '--device',
        'cpu',
        '--models',
        models,
        '--output',
        path.join(root, name, 'out'),
        '--cache',
        path.join(root, name, 'cache'),
        ...extra,
      ],
      /sdflow listening on (http:\/\/\S+)/,
    );
  const measure = async (url: string, pathName: string, workers: number): Promise<Figures> => {
    // Warm-up: one run per worker, so every worker has built its model before the clock starts.
    await ended(url, await Promise.all(Array.from({ length: workers }, () => post(url, workflow()))));
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < runs; i++) ids.push(await post(url, workflow()));
    await ended(url, ids);
    const seconds = (performance.now() - t0) / 1000;
    return { path: pathName, workers, runs, seconds, runsPerMinute: (runs / seconds) * 60 };
  };
  const latency = async (url: string): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < latencyRuns; i++) {
      const t0 = performance.now();
      await ended(url, [await post(url, workflow())]);
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  };

  const figures: Figures[] = [];
  const latencies: Record<string, number> = {};
  try {
    const embedded = await serve('embedded', []);
    figures.push(await measure(embedded.url, 'embedded', 1));
    latencies.embedded = await latency(embedded.url);
    await embedded.stop();

    for (const n of counts) {
      const redis = await startRedis();
      const queue = redis.url;
      const server = await serve(`redis-${n}`, ['--queue', queue]);
      const workers = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          launch(
            process.execPath,
            [
              BIN,
              'worker',
              '--queue',
              queue,
              '--models',
              models,
              '--id',
              `bench-${i}`,
              '--cache',
              path.join(root, `redis-${n}`, `wcache-${i}`),
            ],
            /ready/,
          ),
        ),
      );
      figures.push(await measure(server.url, 'redis', n));
      if (n === 1) latencies.redis = await latency(server.url);
      await server.stop();
      await Promise.all(workers.map((w) => w.stop()));
      await redis.stop();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const one = figures.find((f) => f.path === 'redis' && f.workers === 1);
  process.stdout.write('path      workers  runs  seconds  runs/min  vs 1 worker\n');
  for (const f of figures) {
    const scale = one && f.path === 'redis' ? (f.runsPerMinute / one.runsPerMinute).toFixed(2) : '';
    process.stdout.write(
      `${f.path.padEnd(9)} ${String(f.workers).padStart(7)} ${String(f.runs).padStart(5)} ${f.seconds.toFixed(1).padStart(8)} ${f.runsPerMinute.toFixed(1).padStart(9)}  ${scale}\n`,
    );
  }
  const overhead =
    latencies.redis !== undefined && latencies.embedded !== undefined
      ? latencies.redis - latencies.embedded
      : undefined;
  process.stdout.write(
    `one run, POST to recorded end (median of ${latencyRuns}): embedded ${latencies.embedded?.toFixed(0)} ms, redis ${latencies.redis?.toFixed(0)} ms` +
      (overhead === undefined ? '\n' : `; the Redis path adds ${overhead.toFixed(0)} ms a run\n`),
  );
  if (values.json) {
    await writeFile(values.json, `${JSON.stringify({ figures, latencyMs: latencies, options: values }, null, 2)}\n`);
  }
}
