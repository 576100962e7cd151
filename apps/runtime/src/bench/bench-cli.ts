import { bench } from './bench.ts';
import { matmulRate } from './matmul-rate.ts';
import { prebuild } from './prebuild.ts';
import { unetRate } from './unet-rate.ts';

// Entry of the GPU bundle (esbuild, onnxruntime-node external; see scripts/gpu/bundle.sh): `sdflow bench` and
// `prebuild`, and the `matmul` and `unet` rate checks without the rest of the CLI, so a benchmark machine needs only node, onnxruntime-node and sharp.

export async function benchCli(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'prebuild') {
    process.stdout.write(`${prebuild(argv.slice(1))}\n`);
    return 0;
  }
  if (argv[0] === 'matmul') {
    process.stdout.write(`${await matmulRate({ device: argv[1] === 'cpu' ? 'cpu' : 'cuda' })}\n`);
    return 0;
  }
  if (argv[0] === 'unet') {
    process.stdout.write(
      `${await unetRate({ device: argv[1] === 'cpu' ? 'cpu' : 'cuda', profile: argv.includes('--profile') })}\n`,
    );
    return 0;
  }
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
