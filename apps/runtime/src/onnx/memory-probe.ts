import { cudaRuntime } from './cuda-runtime.ts';
import { envSwitch } from './env-switch.ts';
import { shrinkSharedArena } from './native-session.ts';
import { hasSharedArena } from './shared-arena.ts';

// GPU diagnostics: SDFLOW_MEM_PROBE=1 writes the device's used memory at points of a run to stderr (after a sync, so
// the figure is what the run holds there); =2 also shrinks the shared arena at each point and writes what is left,
// which separates what the arena keeps from what sessions hold (BENCHMARKS.md, sitting AL).
export function memoryProbe(label: string): void {
  const mode = envSwitch('SDFLOW_MEM_PROBE', ['0', '1', '2']);
  if (mode === undefined || mode === '0') return;
  const rt = cudaRuntime();
  if (typeof rt === 'string') return;
  const line = (what: string) => {
    rt.synchronize();
    const m = rt.memInfo();
    const used =
      'code' in m ? `unavailable (${rt.errorName(m.code)})` : `${((m.total - m.free) / 2 ** 30).toFixed(3)} GiB`;
    process.stderr.write(`mem-probe ${label}${what}: used ${used}\n`);
  };
  line('');
  if (mode === '2' && hasSharedArena('cuda')) {
    shrinkSharedArena('cuda');
    line(' after a shrink');
  }
}
