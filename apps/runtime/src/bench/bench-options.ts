import { parseArgs } from 'node:util';
import { z } from 'zod';

// `sdflow bench <workflow...>` options, parsed from argv and checked by one schema.

export const BENCH_USAGE = `usage: sdflow bench <workflow.json...> [options]
  --device cpu|cuda|webgpu   set every loadModel / loadTinyVae device (default: as the workflow says)
  --runs N                   timed runs per workflow (default 3); the median is reported
  --warmup N                 untimed runs first (default 1): model building, session creation, caches
  --models DIR               models directory (default: the runtime's)
  --output DIR               where saveImage writes (default: a temporary folder)
  --json FILE                write every measurement as JSON
  --model NAME               use this model in every loadModel / loadTinyVae (e.g. "default", the tiny test model)
  --steps N, --size PX, --batch N   override denoise steps, image width = height, images per run`;

const Int = (min: number) => z.coerce.number().int().min(min);

export const BenchOptions = z.object({
  workflows: z.array(z.string().min(1)).min(1, 'give at least one workflow file'),
  device: z.enum(['cpu', 'cuda', 'webgpu']).optional(),
  runs: Int(1).default(3),
  warmup: Int(0).default(1),
  models: z.string().optional(),
  output: z.string().optional(),
  json: z.string().optional(),
  model: z.string().optional(),
  steps: Int(1).optional(),
  size: Int(8).optional(),
  batch: Int(1).optional(),
});
export type BenchOptions = z.infer<typeof BenchOptions>;

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      device: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      models: { type: 'string' },
      output: { type: 'string' },
      json: { type: 'string' },
      model: { type: 'string' },
      steps: { type: 'string' },
      size: { type: 'string' },
      batch: { type: 'string' },
    },
  });
  const r = BenchOptions.safeParse({ ...values, workflows: positionals });
  if (!r.success) {
    const detail = r.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`sdflow bench: ${detail}\n${BENCH_USAGE}`);
  }
  return r.data;
}
