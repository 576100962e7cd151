import { afterEach } from 'vitest';

// House rule: tests stay silent; anything printed to the console fails the test that printed it.
const printed: string[] = [];
for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  console[method] = (...args: unknown[]) => {
    printed.push(`console.${method}: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`);
  };
}

afterEach(() => {
  if (printed.length === 0) return;
  const lines = printed.splice(0);
  throw new Error(`stray console output:\n${lines.join('\n')}`);
});
