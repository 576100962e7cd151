import type { OffloadPolicy } from '@sdflow/nodes/values.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySource } from '../models/memory-source.ts';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { streamWeights } from '../onnx/stream-weights.ts';
import { ModelStore, type SessionSpec } from './model-store.ts';

// Offload policies on real (tiny) ONNX Runtime sessions: y = x + b, with b 1 MiB so budgets can be exercised.

const N = 256 * 1024;
function spec(component: string, bias: number, streamed = false, swapWeights = false): SessionSpec {
  return {
    key: `m|${component}`,
    component,
    device: 'cpu',
    swapWeights,
    build: () => {
      const weights = new MemorySource({ b: { dims: [N], data: new Float32Array(N).fill(bias) } });
      const g = new GraphBuilder({ name: component, precision: 'fp32', weights });
      const x = g.inputFloat('x', [N]);
      g.outputFloat(g.op1('Add', [x, g.param('b', [N])]), 'y', [N]);
      return streamed ? streamWeights(g.build(), 'cpu') : g.build();
    },
  };
}

let store = new ModelStore({ threads: 1 });
afterEach(async () => {
  await store.releaseAll();
  store = new ModelStore({ threads: 1 });
});

async function runAll(policy: OffloadPolicy, names: string[], streamed = false, swap = false): Promise<number[]> {
  const out: number[] = [];
  for (const [i, name] of names.entries()) {
    // a reused session keeps the weights it was built with: the bias of the name's first use
    const y = await store.use(spec(name, i + 1, streamed, swap), policy, (s) =>
      s.run({ x: { dims: [N], data: new Float32Array(N) } }),
    );
    out.push(y.y!.data[0]!);
  }
  return out;
}

describe('ModelStore', () => {
  it('none keeps every session and reuses it', async () => {
    const policy: OffloadPolicy = { mode: 'none', budgetMiB: 0 };
    expect(await runAll(policy, ['a', 'b', 'c'])).toEqual([1, 2, 3]);
    await runAll(policy, ['a', 'b']);
    const s = store.stats();
    expect(s.created).toEqual({ a: 1, b: 1, c: 1 });
    expect(s.resident).toEqual(['a', 'b', 'c']);
    expect(s.peakResident).toBe(3);
  });

  it('model keeps one component resident at a time', async () => {
    await runAll({ mode: 'model', budgetMiB: 0 }, ['a', 'b', 'a']);
    const s = store.stats();
    expect(s.created).toEqual({ a: 2, b: 1 });
    expect(s.resident).toEqual(['a']);
    expect(s.peakResident).toBe(1);
  });

  it('model with swapped weights keeps every session and moves only the weights, one component at a time', async () => {
    expect(await runAll({ mode: 'model', budgetMiB: 0 }, ['a', 'b', 'a', 'a', 'b'], true, true)).toEqual([
      1, 2, 1, 1, 2,
    ]);
    const s = store.stats();
    expect(s.created).toEqual({ a: 1, b: 1 });
    expect(s.resident).toEqual(['b']);
    expect(s.peakResident).toBe(1);
    expect([s.timing.a?.loads, s.timing.b?.loads]).toEqual([2, 2]);
    expect([s.timing.a?.runs, s.timing.b?.runs]).toEqual([3, 2]);
  });

  it('sequential keeps one component resident at a time, and reports the weights its sessions stream', async () => {
    expect(await runAll({ mode: 'sequential', budgetMiB: 0 }, ['a', 'b', 'b'], true)).toEqual([1, 2, 2]);
    const s = store.stats();
    expect(s.created).toEqual({ a: 1, b: 1 });
    expect(s.resident).toEqual(['b']);
    expect(s.peakResident).toBe(1);
    expect(s.hostWeightBytes).toEqual({ b: N * 4 });
    // host memory is page-locked for CUDA's copies only
    expect(s.pinning).toEqual({});
  });

  it('a budget evicts the least recently used sessions', async () => {
    // each graph holds 1 MiB of weights: a 2 MiB budget keeps two
    await runAll({ mode: 'none', budgetMiB: 2.5 }, ['a', 'b', 'c']);
    expect(store.stats().resident).toEqual(['b', 'c']);
  });
});
