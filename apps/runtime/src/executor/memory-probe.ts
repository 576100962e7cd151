// Peak resident memory of the process while one node runs. Sampling alone misses peaks inside synchronous
// native calls (onnxruntime's session.run), so the kernel's high-water mark (ru_maxrss) is consulted too:
// if it rose during the node, the node set a new process peak and that value is exact.

export interface MemoryProbe {
  sample(): void;
  /** Stops sampling; returns the peak resident bytes seen while the node ran. */
  stop(): number;
}

const maxRssBytes = (): number => process.resourceUsage().maxRSS * 1024;

export function startMemoryProbe(intervalMs = 20): MemoryProbe {
  const maxBefore = maxRssBytes();
  let peak = process.memoryUsage.rss();
  const sample = (): void => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    sample,
    stop() {
      clearInterval(timer);
      sample();
      const maxAfter = maxRssBytes();
      return maxAfter > maxBefore ? Math.max(peak, maxAfter) : peak;
    },
  };
}
