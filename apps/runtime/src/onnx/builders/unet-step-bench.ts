// UNet step micro-benchmark: one UNet forward per "step" at a fixed batch (4 images x CFG = 8), per fusion variant
// (unet-fusions.ts), with the achieved TFLOP/s, the process's peak GPU memory (nvidia-smi) and each variant's
// output against the first variant's; plus the card's fp16 MatMul rate. Used on the GPU machine (BENCHMARKS.md):
//   node unet-step-bench.mjs --device cuda --variants 'base:none;all:;no-biasadd:biasAdd=0' --out $OUT
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import {
  gpuDescription,
  type MemoryMonitor,
  nvidiaSmiAvailable,
  nvidiaSmiMonitor,
  rssMonitor,
} from '../../bench/memory-monitor.ts';
import { median, timeRuns } from '../../bench/time-runs.ts';
import { unetFlops } from '../../bench/unet-flops.ts';
import { SDXL_BASE_DIR } from '../../models/configs/sdxl-base/sdxl-base-random.ts';
import { SyntheticSource } from '../../models/synthetic-weights.ts';
import { GraphBuilder, type Precision } from '../graph-builder.ts';
import { createSession, type Device, type Feed } from '../session.ts';
import { buildUnet, textEmbedsDim, unetArch } from './unet.ts';
import { parseFusions, resolveFusions, type UnetFusions } from './unet-fusions.ts';

interface Variant {
  name: string;
  spec: string;
  /** Parsed when the command line is read, so a misspelt option fails before anything runs. */
  requested: Partial<UnetFusions>;
  profile: boolean;
  /** ORT session config entries after a '|' in the variant: 'name:spec|session.x=1'. */
  config?: Record<string, string>;
}

interface VariantResult {
  name: string;
  fusions: ReturnType<typeof resolveFusions>;
  buildMs: number;
  sessionMs: number;
  stepMs: number[];
  medianMs: number;
  tflops: number;
  peakMiB: number;
  memorySource: string;
  maxAbsDiff?: number;
  relL2?: number;
  profileTop?: { op: string; ms: number; share: number }[];
  error?: string;
}

function pseudo(dims: number[], seed: number, scale = 1): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = (x / 2147483648) * scale;
  }
  return { dims, data };
}

/** Sums ORT profile node kernel times by op type over the profiled runs (session initialisation left out). */
function summariseProfile(file: string, runs: number): { op: string; ms: number; share: number }[] {
  type Event = { cat?: string; name?: string; ts?: number; dur?: number; args?: { op_name?: string } };
  const events = JSON.parse(readFileSync(file, 'utf8')) as Event[];
  // the first model_run is the warm-up (kernel and algorithm selection): only later runs count
  const runs0 = events.filter((e) => e.name === 'model_run').sort((x, y) => (x.ts ?? 0) - (y.ts ?? 0));
  const after = runs0[0] ? (runs0[0].ts ?? 0) + (runs0[0].dur ?? 0) : 0;
  const byOp = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || (e.ts ?? 0) < after) continue;
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + (e.dur ?? 0));
  }
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  return [...byOp.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([op, us]) => ({ op, ms: us / 1000 / runs, share: us / total }));
}

async function matmulRate(device: Device, n: number): Promise<number> {
  // chains of n x n MatMuls of two lengths; the difference cancels transfers and launch overhead
  const timeChain = async (len: number) => {
    const g = new GraphBuilder({ name: 'mm', precision: 'fp16', weights: new SyntheticSource({ seed: 9 }) });
    let x = g.input('x', 'float16', [n, n]);
    const w = g.weightFromArray('w', pseudo([n, n], 3, 0.01).data, [n, n]);
    for (let i = 0; i < len; i++) x = g.op1('MatMul', [x, w]);
    g.output(g.op1('ReduceMax', [x], { keepdims: 0 }), 'y', 'float16', []);
    const s = await createSession(g.build(), { device, label: 'matmul' });
    const feed: Feed = { dims: [n, n], data: new Uint16Array(n * n).fill(0x2c00), dtype: 'float16' };
    const { ms } = await timeRuns(() => s.run({ x: feed }), 3, 5);
    await s.release();
    return median(ms);
  };
  const short = await timeChain(10);
  const long = await timeChain(60);
  return (50 * 2 * n * n * n) / ((long - short) / 1000) / 1e12;
}

export async function unetStepBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      device: { type: 'string', default: 'cuda' },
      config: { type: 'string', default: join(SDXL_BASE_DIR, 'unet/config.json') },
      batch: { type: 'string', default: '8' },
      size: { type: 'string', default: '128' },
      seq: { type: 'string', default: '77' },
      precision: { type: 'string', default: 'fp16' },
      /** 'matmul': plain attention (MatMul + Softmax + MatMul, row 2), else MultiHeadAttention */
      attention: { type: 'string', default: 'mha' },
      variants: { type: 'string', default: 'base:none;default:' },
      warmup: { type: 'string', default: '3' },
      iters: { type: 'string', default: '10' },
      'profile-iters': { type: 'string', default: '3' },
      matmul: { type: 'string', default: '4096' },
      out: { type: 'string', default: process.env.OUT ?? '.' },
    },
  });
  const device = values.device as Device;
  const precision = values.precision as Precision;
  const attention = values.attention;
  if (attention !== 'mha' && attention !== 'matmul')
    throw new Error(`--attention: 'mha' or 'matmul', got '${attention}'`);
  const [B, S, T] = [Number(values.batch), Number(values.size), Number(values.seq)];
  const out = values.out as string;
  mkdirSync(out, { recursive: true });
  const config = JSON.parse(readFileSync(values.config as string, 'utf8')) as unknown;
  const variants: Variant[] = (values.variants as string)
    .split(';')
    .filter(Boolean)
    .map((v) => {
      const [rawName = '', rest = ''] = v.split(':');
      const [spec = '', cfg] = rest.split('|');
      const profile = rawName.endsWith('+prof');
      const config = cfg
        ? Object.fromEntries(cfg.split(',').map((kv) => kv.split('=') as [string, string]))
        : undefined;
      return { name: profile ? rawName.slice(0, -5) : rawName, spec, requested: parseFusions(spec), profile, config };
    });
  const gpu = device === 'cuda' && nvidiaSmiAvailable();
  const card = gpu ? gpuDescription() : 'cpu';
  const log = (s: string) => console.log(`[unet-step-bench] ${s}`);
  log(`card: ${card}; batch ${B}, latent ${S}x${S}, ${T} tokens, ${precision}, device ${device}`);

  const results: {
    card?: string;
    date: string;
    matmulTflops?: number;
    flopsPerStep?: number;
    variants: VariantResult[];
  } = {
    card,
    date: new Date().toISOString(),
    variants: [],
  };
  if (Number(values.matmul) > 0) {
    results.matmulTflops = await matmulRate(device, Number(values.matmul));
    log(`fp16 MatMul ${values.matmul}^3: ${results.matmulTflops.toFixed(0)} TFLOP/s`);
  }
  const weights = new SyntheticSource({ seed: 0, description: 'sdxl-base-random unet' });
  const a = unetArch(config, weights, { precision });
  const flops = unetFlops(a, { batch: B, height: S, width: S, contextTokens: T });
  results.flopsPerStep = flops;
  log(`UNet FLOPs per step (batch ${B}): ${(flops / 1e12).toFixed(2)} TFLOP`);
  const feeds: Record<string, Tensor> = {
    sample: pseudo([B, a.inChannels, S, S], 1),
    timestep: { dims: [1], data: Float32Array.from([500]) },
    encoder_hidden_states: pseudo([B, T, a.crossAttentionDim], 2),
    text_embeds: pseudo([B, textEmbedsDim(a, {})], 3),
    time_ids: {
      dims: [B, 6],
      data: Float32Array.from({ length: B * 6 }, (_, i) => [1024, 1024, 0, 0, 1024, 1024][i % 6] as number),
    },
  };
  let reference: Tensor | undefined;
  const monitor: MemoryMonitor = gpu ? nvidiaSmiMonitor(50) : rssMonitor(50);
  for (const v of variants) {
    const fusions = resolveFusions(device === 'cuda' ? 'cuda' : 'cpu', v.requested);
    const r: VariantResult = {
      name: v.name,
      fusions,
      buildMs: 0,
      sessionMs: 0,
      stepMs: [],
      medianMs: 0,
      tflops: 0,
      peakMiB: 0,
      memorySource: '',
    };
    try {
      monitor.reset();
      let t0 = performance.now();
      let built: ReturnType<typeof buildUnet> | undefined = buildUnet(config, weights, {
        precision,
        target: device === 'cuda' ? 'cuda' : 'cpu',
        fusions,
        attention,
      });
      r.buildMs = performance.now() - t0;
      t0 = performance.now();
      const session = await createSession(built, { device, label: `unet ${v.name}`, config: v.config });
      built = undefined; // the session holds its own copy
      r.sessionMs = performance.now() - t0;
      log(`${v.name}: built in ${(r.buildMs / 1000).toFixed(1)} s, session in ${(r.sessionMs / 1000).toFixed(1)} s`);
      const timed = await timeRuns(() => session.run(feeds), Number(values.warmup), Number(values.iters));
      r.stepMs.push(...timed.ms);
      const outSample = timed.last?.out_sample;
      await session.release();
      const peak = monitor.peak();
      r.peakMiB = peak.peakBytes / 2 ** 20;
      r.memorySource = peak.source;
      r.medianMs = median(r.stepMs);
      r.tflops = flops / (r.medianMs / 1000) / 1e12;
      if (outSample) {
        if (!reference) reference = outSample;
        else {
          let maxAbs = 0;
          let num = 0;
          let den = 0;
          for (let i = 0; i < outSample.data.length; i++) {
            const d = (outSample.data[i] as number) - (reference.data[i] as number);
            maxAbs = Math.max(maxAbs, Math.abs(d));
            num += d * d;
            den += (reference.data[i] as number) ** 2;
          }
          r.maxAbsDiff = maxAbs;
          r.relL2 = Math.sqrt(num / den);
        }
      }
      log(
        `${v.name}: median ${r.medianMs.toFixed(1)} ms/step, ${r.tflops.toFixed(0)} TFLOP/s, peak ${r.peakMiB.toFixed(0)} MiB, rel L2 vs first ${r.relL2?.toExponential(2) ?? '-'}`,
      );
      if (v.profile)
        r.profileTop = await profileVariant(
          config,
          weights,
          precision,
          device,
          fusions,
          feeds,
          Number(values['profile-iters']),
          join(out, `profile-${v.name}`),
        );
    } catch (e) {
      r.error = (e as Error).message;
      log(`${v.name}: FAILED ${r.error}`);
    }
    results.variants.push(r);
    writeFileSync(join(out, 'unet-step-bench.json'), JSON.stringify(results, null, 2));
  }
  await monitor.stop();
  console.log(
    `\nUNet step, batch ${B}, ${S}x${S} latents, ${precision}, ${card}; ${(flops / 1e12).toFixed(2)} TFLOP/step; MatMul ${results.matmulTflops?.toFixed(0) ?? '-'} TFLOP/s`,
  );
  console.log(
    'variant              | ms/step | TFLOP/s | % of MatMul | peak MiB | rel L2 vs first | build s | session s',
  );
  for (const r of results.variants) {
    if (r.error) {
      console.log(`${r.name.padEnd(20)} | FAILED: ${r.error.slice(0, 200)}`);
      continue;
    }
    const pct = results.matmulTflops ? ((100 * r.tflops) / results.matmulTflops).toFixed(0) : '-';
    console.log(
      `${r.name.padEnd(20)} | ${r.medianMs.toFixed(1).padStart(7)} | ${r.tflops.toFixed(0).padStart(7)} | ${pct.padStart(11)} | ${r.peakMiB.toFixed(0).padStart(8)} | ${(r.relL2?.toExponential(2) ?? '-').padStart(15)} | ${(r.buildMs / 1000).toFixed(1).padStart(7)} | ${(r.sessionMs / 1000).toFixed(1).padStart(9)}`,
    );
  }
}

async function profileVariant(
  config: unknown,
  weights: SyntheticSource,
  precision: Precision,
  device: Device,
  fusions: ReturnType<typeof resolveFusions>,
  feeds: Record<string, Tensor>,
  iters: number,
  prefix: string,
): Promise<{ op: string; ms: number; share: number }[]> {
  const built = buildUnet(config, weights, { precision, target: device === 'cuda' ? 'cuda' : 'cpu', fusions });
  const s = await createSession(built, { device, label: 'unet profile', profilePrefix: prefix });
  await s.run(feeds); // warm-up, left out of the summary
  for (let i = 0; i < iters; i++) await s.run(feeds);
  await s.release();
  const dir = join(prefix, '..');
  const base = prefix.slice(dir.length + 1);
  const file = readdirSync(dir).find((f) => f.startsWith(base) && f.endsWith('.json'));
  if (!file) return [];
  const top = summariseProfile(join(dir, file), iters);
  writeFileSync(`${prefix}-by-op.json`, JSON.stringify(top, null, 2));
  rmSync(join(dir, file)); // the raw trace is tens of MB
  return top.slice(0, 15);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  unetStepBench(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
