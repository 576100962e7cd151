import path from 'node:path';
import { parseArgs } from 'node:util';
import { dataDirs } from '../cli/data-dirs.ts';
import { UsageError } from '../cli/exit-codes.ts';
import { parseDeviceEntry } from '../engine/device-entry.ts';
import { ServeConfigError, type ServeOptions, serve } from './serve.ts';

// `sdflow serve [options]`: parses the command line, starts the server, prints where it listens, and runs
// until SIGINT/SIGTERM. Tests and scripts wait for the "sdflow listening on <url>" line on stdout.

export const SERVE_USAGE = `usage: sdflow serve [options]
  --host HOST           default 127.0.0.1; any other address requires --token
  --port N              default 8188 (0 = any free port)
  --token SECRET        required for API and WebSocket (Bearer header, ?token= or cookie); env SDFLOW_TOKEN
  --models DIR          diffusers model folders (default models, env SDFLOW_MODELS)
  --output DIR          where images are written and served from (default output, env SDFLOW_OUTPUT)
  --cache DIR           embedding cache (default .sdflow/cache, env SDFLOW_CACHE)
  --input DIR           Load Image's files; uploads from the editor land here (default input, env SDFLOW_INPUT)
  --data DIR            job store: every run and the history (default: the cache folder's parent, env SDFLOW_DATA)
  --editor DIR          built editor (default apps/editor/dist)
  --device D            auto|cpu|cuda|webgpu (default auto)
  --devices LIST        one engine per device, each in its own process: cuda:0,cuda:1 (or cpu,cpu)
  --queue URL           redis://HOST:PORT: put runs on a BullMQ queue for \`sdflow worker\` processes
  --max-attempts N      a run cut short by a crash or a lost worker is started at most N times (default 3)
  --grace-s N           on SIGTERM/SIGINT, running runs get N seconds to finish before going back to the
                        queue for the next start (default 10)
  --allow-origin URL    another origin allowed to use the API and WebSocket (repeatable)
  --max-queue N         runs waiting at most (default 100)
  --max-upload-mib N    upload cap (default 32)
  --max-run-gib N       refuse runs whose largest node needs more working memory (default 48)
  --max-run-work N      refuse runs costlier than N UNet evaluations of a 1024x1024 image (default 2400)
`;

const DEVICES = ['auto', 'cpu', 'cuda', 'webgpu'] as const;
const DEFAULT_GRACE_S = 10;

export interface ServeCommandOptions extends ServeOptions {
  /** Seconds running runs get to finish on SIGTERM/SIGINT. */
  readonly graceS: number;
}

function positiveInt(name: string, value: string | undefined, allowZero = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new UsageError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${value}"`);
  }
  return n;
}

export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeCommandOptions {
  let values: ReturnType<typeof parse>['values'];
  try {
    const parsed = parse(argv);
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected arguments: ${parsed.positionals.join(' ')}`);
    values = parsed.values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${SERVE_USAGE}`);
  }
  const device = values.device ?? 'auto';
  if (!(DEVICES as readonly string[]).includes(device)) {
    throw new UsageError(`--device must be one of ${DEVICES.join(', ')}, got "${device}"`);
  }
  const port = positiveInt('port', values.port, true);
  if (port !== undefined && port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  const maxQueue = positiveInt('max-queue', values['max-queue']);
  const maxUploadMiB = positiveInt('max-upload-mib', values['max-upload-mib']);
  const maxRunGiB = positiveInt('max-run-gib', values['max-run-gib']);
  const maxRunWork = positiveInt('max-run-work', values['max-run-work']);
  const token = values.token ?? (env.SDFLOW_TOKEN || undefined);
  const devices = values.devices?.split(',').map((d) => d.trim());
  const badDevice = devices?.find((d) => parseDeviceEntry(d) === undefined);
  if (badDevice !== undefined) {
    throw new UsageError(`--devices takes a comma-separated list of cpu, cuda, cuda:N or webgpu, got "${badDevice}"`);
  }
  if (values.queue !== undefined && !/^rediss?:\/\/[^\s]+$/.test(values.queue)) {
    throw new UsageError(`--queue must be a redis:// URL, got "${values.queue}"`);
  }
  if (values.queue !== undefined && devices !== undefined) {
    throw new UsageError('--queue and --devices exclude each other: with a queue, workers bring the devices');
  }
  const maxAttempts = positiveInt('max-attempts', values['max-attempts']);
  const graceS = positiveInt('grace-s', values['grace-s'], true) ?? DEFAULT_GRACE_S;
  const data = values.data ?? (env.SDFLOW_DATA || undefined);
  return {
    graceS,
    ...(data === undefined ? {} : { dataDir: path.resolve(data) }),
    ...(devices === undefined ? {} : { devices }),
    ...(values.queue === undefined ? {} : { queue: values.queue }),
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
    host: values.host ?? '127.0.0.1',
    ...(port === undefined ? {} : { port }),
    ...(token === undefined ? {} : { token }),
    ...dataDirs(values, env),
    ...(values.editor ? { editorDir: path.resolve(values.editor) } : {}),
    device: device as ServeOptions['device'],
    allowedOrigins: values['allow-origin'] ?? [],
    limits: {
      ...(maxQueue === undefined ? {} : { maxQueue }),
      ...(maxUploadMiB === undefined ? {} : { maxUploadBytes: maxUploadMiB * 1024 * 1024 }),
      ...(maxRunGiB === undefined ? {} : { maxRunBytes: maxRunGiB * 1024 ** 3 }),
      ...(maxRunWork === undefined ? {} : { maxRunWork }),
    },
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string', short: 'p' },
      token: { type: 'string' },
      models: { type: 'string' },
      output: { type: 'string' },
      out: { type: 'string' },
      cache: { type: 'string' },
      editor: { type: 'string' },
      device: { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      'max-queue': { type: 'string' },
      'max-upload-mib': { type: 'string' },
      'max-run-gib': { type: 'string' },
      'max-run-work': { type: 'string' },
      data: { type: 'string' },
      input: { type: 'string' },
      devices: { type: 'string' },
      queue: { type: 'string' },
      'max-attempts': { type: 'string' },
      'grace-s': { type: 'string' },
    },
  });
}

export async function serveCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  const withOut = argv.map((a) => (a === '--out' ? '--output' : a));
  let opts: ServeCommandOptions;
  try {
    opts = parseServeArgs(withOut);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
  let server: Awaited<ReturnType<typeof serve>>;
  try {
    server = await serve(opts);
  } catch (err) {
    // A refused configuration (non-loopback without a token, short token) is a usage error: exit 2.
    if (err instanceof ServeConfigError) throw new UsageError(err.message);
    throw err;
  }
  process.stdout.write(`sdflow listening on ${server.url}\n`);
  process.stdout.write(`  models: ${opts.modelsDir}\n  output: ${opts.outputDir}\n`);
  if (opts.queue) process.stdout.write(`  queue: ${opts.queue} (runs go to sdflow worker processes)\n`);
  if (opts.devices) process.stdout.write(`  devices: ${opts.devices.join(', ')}\n`);
  if (opts.token) process.stdout.write(`  token required: open ${server.url}/?token=<token>\n`);
  const signal = await new Promise<string>((resolve) => {
    const stop = (name: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      // A second signal while stopping is acknowledged, not obeyed: exiting mid-step would lose the run's place.
      const again = () => process.stdout.write('sdflow: still stopping (running runs go back to the queue)\n');
      process.on('SIGINT', again);
      process.on('SIGTERM', again);
      resolve(name);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write(`sdflow: ${signal}: stopping; running runs get ${opts.graceS} s to finish\n`);
  await server.close({ graceMs: opts.graceS * 1000 });
  process.stdout.write('sdflow: stopped; queued runs wait in the job store for the next start\n');
  return 0;
}
