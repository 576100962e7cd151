import { afterEach, describe, expect, it, vi } from 'vitest';
import { cudaRuntime } from './cuda-runtime.ts';
import { memoryProbe } from './memory-probe.ts';

describe('memoryProbe (SDFLOW_MEM_PROBE)', () => {
  afterEach(() => {
    delete process.env.SDFLOW_MEM_PROBE;
    vi.restoreAllMocks();
  });

  const written = (label: string): string[] => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    memoryProbe(label);
    vi.restoreAllMocks();
    return lines;
  };

  it('writes nothing unless asked', () => {
    expect(written('before vae decode')).toEqual([]);
    process.env.SDFLOW_MEM_PROBE = '0';
    expect(written('before vae decode')).toEqual([]);
  });

  it('rejects a mistyped value, naming the variable', () => {
    process.env.SDFLOW_MEM_PROBE = 'on';
    expect(() => memoryProbe('x')).toThrow(/SDFLOW_MEM_PROBE must be one of 0, 1, 2/);
  });

  it('writes the used device memory at the point (or the CUDA error why not), and nothing without CUDA', () => {
    process.env.SDFLOW_MEM_PROBE = '1';
    const lines = written('unet: weights loaded');
    // without the runtime library: silent; with it but no GPU: the CUDA error name, not a figure
    if (typeof cudaRuntime() === 'string') expect(lines).toEqual([]);
    else
      expect(lines).toEqual([
        expect.stringMatching(/^mem-probe unet: weights loaded: used (\d+\.\d{3} GiB|unavailable \(cuda\w+\))\n$/),
      ]);
  });
});
