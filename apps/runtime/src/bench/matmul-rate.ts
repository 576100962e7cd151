import { MemorySource } from '../models/memory-source.ts';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { createSession } from '../onnx/session.ts';
import { timeRuns } from './time-runs.ts';

// The card's fp16 matmul rate through ONNX Runtime, the yardstick for the UNet's achieved rate: a chain of
// `depth` [n, n] x [n, n] MatMuls on one resident weight, so the host copy of the input is small beside the work.

export async function matmulRate(opts: {
  device: 'cpu' | 'cuda';
  n?: number;
  depth?: number;
  runs?: number;
}): Promise<string> {
  const n = opts.n ?? 4096;
  const depth = opts.depth ?? 64;
  const w = new Float32Array(n * n);
  let x = 0x2545f491;
  const scale = Math.sqrt(3 / n); // unit variance through the chain
  for (let i = 0; i < w.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    w[i] = (x / 2147483648) * scale;
  }
  const g = new GraphBuilder({
    name: 'matmul_rate',
    precision: 'fp16',
    target: opts.device,
    weights: new MemorySource({ w: { dims: [n, n], data: w } }),
  });
  const weight = g.param('w', [n, n]);
  let y = g.inputFloat('x', [n, n]);
  for (let i = 0; i < depth; i++) y = g.op1('MatMul', [y, weight]);
  g.outputFloat(g.op1('ReduceMean', [y], { keepdims: 1 }), 'mean', [1, 1]);
  const s = await createSession(g.build(), { device: opts.device });
  const feed = { x: { dims: [n, n], data: new Float32Array(n * n).fill(0.5) } };
  const { ms: times } = await timeRuns(() => s.run(feed), 2, opts.runs ?? 10);
  await s.release();
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)] as number;
  const tflops = (2 * n * n * n * depth) / (ms / 1000) / 1e12;
  return `matmul fp16 ${depth} x [${n}x${n}]x[${n}x${n}] on ${opts.device}: median ${ms.toFixed(2)} ms = ${tflops.toFixed(1)} TFLOP/s`;
}
