/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Runs `run` warmup + runs times in a row; the wall time of each timed run in ms, and the last result. */
export async function timeRuns<T>(
  run: () => Promise<T>,
  warmup: number,
  runs: number,
): Promise<{ ms: number[]; last: T | undefined }> {
  const ms: number[] = [];
  let last: T | undefined;
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = performance.now();
    last = await run();
    if (i >= warmup) ms.push(performance.now() - t0);
  }
  return { ms, last };
}
