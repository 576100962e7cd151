import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

// Peak memory while a run executes. On CUDA: the driver's figure for this process, from one long-running
// `nvidia-smi --query-compute-apps ... -lms 50` (one sample per 50 ms without spawning a process each time);
// the whole GPU's memory.used above its idle level is kept too, for containers whose PIDs nvidia-smi cannot
// map to ours. On CPU: the process's resident set (worker threads included).

export interface MemoryPeak {
  /** Peak bytes of this process as the driver reports it (cuda) or resident set (cpu). */
  readonly peakBytes: number;
  /** What peakBytes measures. */
  readonly source: 'nvidia-smi process' | 'nvidia-smi gpu used - idle' | 'rss';
  readonly samples: number;
}

export interface MemoryMonitor {
  /** Starts a new measurement window (one run). */
  reset(): void;
  /** Peak of the current window. */
  peak(): MemoryPeak;
  /** Peak bytes since the previous segment() (or reset()), then a new segment starts: per-node peaks in a run. */
  segment(): number;
  stop(): Promise<void>;
}

const MiB = 1024 * 1024;

export function rssMonitor(intervalMs = 50): MemoryMonitor {
  let peak = 0;
  let segmentPeak = 0;
  let samples = 0;
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
    if (rss > segmentPeak) segmentPeak = rss;
    samples++;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    reset() {
      peak = 0;
      segmentPeak = 0;
      samples = 0;
      sample();
    },
    peak() {
      sample();
      return { peakBytes: peak, source: 'rss', samples };
    },
    segment() {
      sample();
      const p = segmentPeak;
      segmentPeak = 0;
      sample();
      return p;
    },
    async stop() {
      clearInterval(timer);
    },
  };
}

/** Whether nvidia-smi answers at all (no GPU, no driver: false). */
export function nvidiaSmiAvailable(): boolean {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return r.status === 0 && r.stdout.trim().length > 0;
}

/** The GPU's name and driver, for the report. */
export function gpuDescription(): string | undefined {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : undefined;
}

function gpuUsedBytes(): number {
  const r = spawnSync('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', '-i', '0'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const mib = Number.parseFloat(r.stdout);
  return Number.isFinite(mib) ? mib * MiB : 0;
}

/** Polls the driver every intervalMs for this process's GPU memory (pid matched, else the GPU total above idle). */
export function nvidiaSmiMonitor(intervalMs = 50, pid = process.pid): MemoryMonitor {
  const idle = gpuUsedBytes();
  let procPeak = 0;
  let gpuPeak = 0;
  let procSegment = 0;
  let gpuSegment = 0;
  let samples = 0;
  const apps: ChildProcess = spawn(
    'nvidia-smi',
    ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits', `-lms`, String(intervalMs)],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const gpu: ChildProcess = spawn(
    'nvidia-smi',
    ['--query-gpu=memory.used', '--format=csv,noheader,nounits', '-i', '0', '-lms', String(intervalMs)],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  onLines(apps, (line) => {
    const [p, used] = line.split(',').map((s) => s.trim());
    if (Number(p) !== pid) return;
    const bytes = Number.parseFloat(used ?? '') * MiB;
    if (bytes > procPeak) procPeak = bytes;
    if (bytes > procSegment) procSegment = bytes;
    samples++;
  });
  onLines(gpu, (line) => {
    const mib = Number.parseFloat(line);
    if (!Number.isFinite(mib)) return;
    gpuPeak = Math.max(gpuPeak, mib * MiB - idle);
    gpuSegment = Math.max(gpuSegment, mib * MiB - idle);
  });
  apps.unref();
  gpu.unref();
  return {
    reset() {
      procPeak = 0;
      gpuPeak = 0;
      procSegment = 0;
      gpuSegment = 0;
      samples = 0;
    },
    segment() {
      const p = samples > 0 ? procSegment : gpuSegment;
      procSegment = 0;
      gpuSegment = 0;
      return p;
    },
    peak() {
      if (samples > 0) return { peakBytes: procPeak, source: 'nvidia-smi process', samples };
      return { peakBytes: gpuPeak, source: 'nvidia-smi gpu used - idle', samples };
    },
    async stop() {
      apps.kill();
      gpu.kill();
    },
  };
}

function onLines(child: ChildProcess, each: (line: string) => void): void {
  let buffer = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) each(line);
  });
}
