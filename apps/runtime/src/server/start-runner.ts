import path from 'node:path';
import type { Catalog } from '@sdflow/nodes/catalog.ts';
import type { AvailableModels } from '@sdflow/nodes/graph/model-problems.ts';
import { type BackendOptions, backendSpec } from '../engine/backend-spec.ts';
import { parseDeviceEntry } from '../engine/device-entry.ts';
import { Engine } from '../engine/engine.ts';
import type { ModuleSpec } from '../engine/messages.ts';
import { ChildEngine } from '../jobs/child-engine.ts';
import type { EngineLike } from '../jobs/engine-like.ts';
import type { JobStore } from '../jobs/job-store.ts';
import { LocalRunner, type LocalSlot } from '../jobs/local-runner.ts';
import type { Runner } from '../jobs/runner.ts';

// Which runner `sdflow serve` uses: its own engines (one, or one per `--devices` entry, each in a process of its
// own so that each sees only its GPU), or `sdflow worker` processes on a Redis queue (`--queue`).

export interface StartedRunner {
  readonly runner: Runner;
  /** The first engine's backend and cache counters (GET /api/stats), when the engines are this server's. */
  stats(): Promise<Record<string, unknown>>;
  /** What runs may name, when the runner knows better than this server's models folder (workers elsewhere). */
  models?: () => Promise<AvailableModels | undefined>;
  /** Closes the engines this server started (after the runner has stopped). */
  close(): Promise<void>;
}

/** The part of serve()'s options that chooses and starts the runner. */
export interface RunnerOptions {
  readonly queue?: string | undefined;
  readonly engine?: EngineLike | undefined;
  readonly devices?: readonly string[] | undefined;
  readonly device?: string | undefined;
  readonly backend?: ModuleSpec | undefined;
  readonly cacheDir: string;
  readonly cacheBytes?: number | undefined;
}

export interface RunnerContext {
  readonly store: JobStore;
  readonly modelsDir: string;
  readonly outputDir: string;
  readonly inputDir: string;
  readonly catalog: Catalog;
  readonly maxAttempts: number;
}

export async function startRunner(opts: RunnerOptions, ctx: RunnerContext): Promise<StartedRunner> {
  if (opts.queue) {
    const { startRedisRunner } = await import('../jobs/redis-runner.ts');
    return startRedisRunner({
      url: opts.queue,
      store: ctx.store,
      outputDir: ctx.outputDir,
      inputDir: ctx.inputDir,
      catalog: ctx.catalog,
      maxAttempts: ctx.maxAttempts,
    });
  }
  const slots: LocalSlot[] = [];
  const owned: EngineLike[] = [];
  try {
    if (opts.engine) {
      slots.push({ id: 'local', device: opts.device ?? 'auto', engine: opts.engine });
    } else if (opts.devices && opts.devices.length > 0) {
      const engines = await Promise.all(
        opts.devices.map((device) =>
          ChildEngine.start({ device, backend: backendFor(opts, ctx, device), cacheBytes: opts.cacheBytes }),
        ),
      );
      engines.forEach((engine, i) => {
        owned.push(engine);
        slots.push({ id: `local-${i}`, device: opts.devices![i]!, engine });
      });
    } else {
      const device = opts.device ?? 'auto';
      const engine = await Engine.start({
        backend: backendFor(opts, ctx, device),
        ...(opts.cacheBytes === undefined ? {} : { cacheBytes: opts.cacheBytes }),
      });
      owned.push(engine);
      slots.push({ id: 'local', device, engine });
    }
  } catch (err) {
    await Promise.all(owned.map((e) => e.close()));
    throw err;
  }
  const runner = new LocalRunner(ctx.store, slots, {
    maxAttempts: ctx.maxAttempts,
    outputDir: ctx.outputDir,
    catalog: ctx.catalog,
  });
  const first = slots[0]!.engine;
  return {
    runner,
    stats: async () => {
      const [backend, cache] = await Promise.all([
        first.backendStats().catch((err: Error) => ({ error: err.message })),
        first.cacheStats().catch((err: Error) => ({ error: err.message })),
      ]);
      return { backend, cache };
    },
    close: async () => {
      // An engine stopped in the middle of a native call would take the process down with it: close only idle
      // ones; a run still stuck past the grace period is left to crash recovery at the next start.
      const idle = new Set(runner.idleEngines());
      await Promise.all(owned.filter((e) => idle.has(e)).map((e) => e.close()));
    },
  };
}

/** The backend the engines load: the given factory, or the ONNX backend on the device's kind. */
function backendFor(opts: RunnerOptions, ctx: RunnerContext, device: string): ModuleSpec {
  // `auto` (or nothing) leaves the device to the backend.
  const kind = parseDeviceEntry(device)?.kind;
  const options: BackendOptions & { cacheDir: string } = {
    modelsDir: ctx.modelsDir,
    outputDir: ctx.outputDir,
    inputDir: ctx.inputDir,
    cacheDir: path.resolve(opts.cacheDir),
    ...(kind === undefined ? {} : { device: kind }),
  };
  return opts.backend ?? backendSpec(options);
}
