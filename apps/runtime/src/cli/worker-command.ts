import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { backendSpec } from '../engine/backend-spec.ts';
import { parseDeviceEntry } from '../engine/device-entry.ts';
import { availableModels } from './available-models.ts';
import { dataDirs } from './data-dirs.ts';
import { UsageError } from './exit-codes.ts';

// `sdflow worker --queue redis://HOST:PORT`: a process that takes runs from the queue of `sdflow serve --queue` and
// runs them on its device, until SIGTERM/SIGINT. Scripts and tests wait for its "sdflow worker <id> ready" line.

export const WORKER_USAGE = `usage: sdflow worker --queue redis://HOST:PORT [options]
  --queue URL           the Redis that \`sdflow serve --queue URL\` puts runs on (required)
  --device D            cpu|cuda|cuda:N|webgpu (default cpu); cuda:N makes GPU N the only one this worker sees
  --models DIR          diffusers model folders (default models, env SDFLOW_MODELS)
  --cache DIR           embedding cache (default .sdflow/cache, env SDFLOW_CACHE)
  --id NAME             this worker's name in the history and /api/stats (default host-pid)
  --max-attempts N      a run whose workers are lost is started at most N times (default 3)
  --lock-s N            seconds a lost worker's run waits before another worker takes it (default 30)
  --grace-s N           on SIGTERM/SIGINT, a running run gets N seconds to finish before it goes back to the
                        queue (default 10)
`;

function int(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer of at least ${min}, got "${value}"`);
  return n;
}

export async function workerCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(WORKER_USAGE);
    return 0;
  }
  let values: Record<string, string | undefined>;
  try {
    const parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        queue: { type: 'string' },
        device: { type: 'string' },
        models: { type: 'string' },
        cache: { type: 'string' },
        id: { type: 'string' },
        'max-attempts': { type: 'string' },
        'lock-s': { type: 'string' },
        'grace-s': { type: 'string' },
      },
    });
    values = parsed.values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${WORKER_USAGE}`);
  }
  const url = values.queue;
  if (!url || !/^rediss?:\/\/\S+$/.test(url))
    throw new UsageError(`--queue redis://HOST:PORT is required\n${WORKER_USAGE}`);
  const device = values.device ?? 'cpu';
  const entry = parseDeviceEntry(device);
  if (!entry) throw new UsageError(`--device must be cpu, cuda, cuda:N or webgpu, got "${device}"`);
  const kind = entry.kind;
  // Set before the engine starts CUDA in this process: the worker then sees exactly its GPU, as device 0.
  if (entry.index !== undefined) process.env.CUDA_VISIBLE_DEVICES = entry.index;
  const dirs = dataDirs(values);
  const id = values.id ?? `${hostname()}-${process.pid}`;
  if (!/^[A-Za-z0-9._:-]{1,100}$/.test(id)) throw new UsageError(`--id takes letters, digits, . _ : -, got "${id}"`);
  const graceS = int('grace-s', values['grace-s'], 10, 0);
  const { startQueueWorker } = await import('../jobs/queue-worker.ts');
  let worker: Awaited<ReturnType<typeof startQueueWorker>>;
  try {
    worker = await startQueueWorker({
      url,
      id,
      device,
      maxAttempts: int('max-attempts', values['max-attempts'], 3, 1),
      lockMs: int('lock-s', values['lock-s'], 30, 1) * 1000,
      available: () => availableModels(dirs.modelsDir),
      // Outputs and input images travel through the queue: the worker's folders for them are its own staging ones.
      backend: ({ outputDir, inputDir }) =>
        backendSpec({ modelsDir: dirs.modelsDir, outputDir, inputDir, cacheDir: dirs.cacheDir, device: kind }),
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  process.stdout.write(`sdflow worker ${id} ready on ${device}, queue ${url}\n`);
  const signal = await new Promise<string>((resolve) => {
    const stop = (name: string) => resolve(name);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stdout.write(`sdflow worker ${id}: ${signal}: stopping; a running run gets ${graceS} s to finish\n`);
  await worker.close(graceS * 1000);
  process.stdout.write(`sdflow worker ${id}: stopped\n`);
  return 0;
}
