import { bench } from './bench.ts';

// Entry of the GPU bundle (esbuild, onnxruntime-node external; see gpu/bundle.sh): `sdflow bench` without the
// rest of the CLI, so a benchmark machine needs only node, onnxruntime-node and sharp.

export async function benchCli(argv: readonly string[]): Promise<number> {
  const report = await bench(argv);
  return report.workflows.some((w) => w.error) ? 1 : 0;
}

benchCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  },
);
