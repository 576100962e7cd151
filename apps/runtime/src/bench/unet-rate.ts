import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { SDXL_BASE_DIR, sdxlBaseRandomModel } from '../models/configs/sdxl-base/sdxl-base-random.ts';
import { parseUnetConfig } from '../onnx/builders/unet-config.ts';
import { createSession } from '../onnx/session.ts';
import { timeRuns } from './time-runs.ts';
import { unetFlops } from './unet-flops.ts';

// One sdxl-base-random UNet forward at the seed's shape (batch 8 = 4 images x CFG, 128x128 latents, 77 tokens),
// timed alone: the UNet step and its achieved FLOP rate, without the denoise loop around it.

export async function unetRate(opts: {
  device: 'cpu' | 'cuda';
  batch?: number;
  size?: number;
  runs?: number;
  profile?: boolean;
}): Promise<string> {
  const b = opts.batch ?? 8;
  const hw = opts.size ?? 128;
  const model = sdxlBaseRandomModel();
  const configDir = process.env.SDFLOW_SDXL_BASE_CONFIGS ?? SDXL_BASE_DIR;
  const file = join(configDir, 'unet/config.json');
  const arch = parseUnetConfig(JSON.parse(readFileSync(file, 'utf8')), file);
  const built = model.unet.build({ precision: 'fp16', target: opts.device });
  const s = await createSession(built, {
    device: opts.device,
    label: 'unet',
  });
  const fill = (dims: number[], v: number) => ({
    dims,
    data: new Float32Array(dims.reduce((x, y) => x * y, 1)).fill(v),
  });
  const feeds = {
    sample: fill([b, 4, hw, hw], 0.5),
    timestep: fill([1], 500),
    encoder_hidden_states: fill([b, 77, arch.crossAttentionDim], 0.1),
    text_embeds: fill([b, arch.addInputDim - 6 * arch.addTimeEmbedDim], 0.1),
    time_ids: { dims: [b, 6], data: new Float32Array(b * 6).fill(1024) },
  };
  const { ms: times } = await timeRuns(() => s.run(feeds), 2, opts.runs ?? 10);
  await s.release();
  times.sort((x, y) => x - y);
  const ms = times[Math.floor(times.length / 2)] as number;
  const flops = unetFlops(arch, { batch: b, height: hw, width: hw, contextTokens: 77 });
  const lines = [
    `unet fp16 batch ${b} ${hw}x${hw} on ${opts.device}: median ${ms.toFixed(1)} ms, ${(flops / 1e12).toFixed(2)} TFLOP = ${(flops / (ms / 1000) / 1e12).toFixed(1)} TFLOP/s`,
  ];
  if (opts.profile) {
    // ORT's per-op profile of a few more forwards (a second session on the same graph), summed by op type
    const dir = mkdtempSync(join(os.tmpdir(), 'sdflow-unet-prof-'));
    const p = await createSession(built, {
      device: opts.device,
      label: 'unet profile',
      profilePrefix: join(dir, 'unet'),
    });
    await p.run(feeds);
    for (let i = 0; i < 3; i++) await p.run(feeds);
    await p.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (file) lines.push(...summarizeProfile(join(dir, file), 3));
    rmSync(dir, { recursive: true, force: true });
  }
  return lines.join('\n');
}

/** Kernel time per op type per forward (after the first run), largest first, from an ORT profile (Chrome trace). */
function summarizeProfile(file: string, forwards: number): string[] {
  const events = JSON.parse(readFileSync(file, 'utf8')) as {
    cat?: string;
    name?: string;
    ts?: number;
    dur?: number;
    args?: { op_name?: string };
  }[];
  // the session's first run (cuDNN algorithm search) is a warm-up: skip everything up to its end
  const first = events.find((e) => e.name === 'model_run');
  const warmEnd = first ? (first.ts ?? 0) + (first.dur ?? 0) : 0;
  const byOp = new Map<string, number>();
  for (const e of events) {
    if ((e.ts ?? 0) < warmEnd) continue;
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
    byOp.set(e.args.op_name, (byOp.get(e.args.op_name) ?? 0) + (e.dur ?? 0));
  }
  const total = [...byOp.values()].reduce((a, v) => a + v, 0);
  return [...byOp.entries()]
    .sort((x, y) => y[1] - x[1])
    .slice(0, 12)
    .map(
      ([op, us]) =>
        `  ${op.padEnd(28)} ${(us / forwards / 1000).toFixed(1).padStart(8)} ms/forward  ${((100 * us) / total).toFixed(1)}%`,
    );
}
