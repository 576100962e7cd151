#!/usr/bin/env node
// The `sdflow` command: TypeScript runs without a build step, so register tsx, then hand over to main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
