// Entry of the GPU bundle's `sdflow` command (bundle.sh): main.ts without the tsx loader.
import { main } from '../../src/main.ts';

process.exitCode = await main(process.argv.slice(2));
