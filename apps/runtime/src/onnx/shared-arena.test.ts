import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySource } from '../models/memory-source.ts';
import { GraphBuilder } from './graph-builder.ts';
import { ortCApi, ortVersion } from './ort-capi.ts';
import { createSession } from './session.ts';
import { registerSharedArena, sharedArenaConfig, sharedArenaKeys, sharedArenaKind } from './shared-arena.ts';

// The shared arena goes through ONNX Runtime's C API by FFI: the function-table slots and the environment are
// checked here on the CPU provider (the CUDA one registers the same way on a GPU machine).

function smallGraph() {
  const g = new GraphBuilder({ name: 'small', precision: 'fp32', weights: new MemorySource({}) });
  const x = g.inputFloat('x', [2, 3]);
  g.outputFloat(g.op1('Mul', [g.op1('Sigmoid', [x]), x]), 'y', [2, 3]);
  return g.build();
}
const feeds = { x: { dims: [2, 3], data: Float32Array.from([-2, -1, 0, 1, 2, 3]) } };

describe('shared arena (ONNX Runtime C API through FFI)', () => {
  it('reads the version of the library onnxruntime-node loaded', () => {
    const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    expect(ortVersion()).toBe(JSON.parse(readFileSync(pkg, 'utf8')).version);
  });

  it('registers a CPU arena once, and sessions that ask for it compute as before', async () => {
    expect(registerSharedArena('cpu')).toBe(true);
    expect(registerSharedArena('cpu')).toBe(true); // once per process: a second registration is not attempted
    const own = await createSession(smallGraph(), { device: 'cpu' });
    const shared = await createSession(smallGraph(), { device: 'cpu', config: sharedArenaConfig });
    const [a, b] = [(await own.run(feeds)).y!, (await shared.run(feeds)).y!];
    expect([...b.data]).toEqual([...a.data]);
    expect(a.data[5]).toBeCloseTo(3 / (1 + Math.exp(-3)), 6);
    await Promise.all([own.release(), shared.release()]);
  });

  it('asks CUDA for nothing where its provider cannot load: the session fails with a clear error, the process lives', async () => {
    await expect(createSession(smallGraph(), { device: 'cuda', sharedArena: true, label: 'small' })).rejects.toThrow(
      /small: ONNX Runtime could not create a cuda session/,
    );
    // and CPU sessions still run
    const s = await createSession(smallGraph(), { device: 'cpu' });
    expect((await s.run(feeds)).y?.dims).toEqual([2, 3]);
    await s.release();
  });

  describe('what the arena is made of', () => {
    afterEach(() => {
      delete process.env.SDFLOW_ARENA_KIND;
      delete process.env.SDFLOW_CUDA_GRAPHS;
    });

    it("is CUDA's memory pool by default on CUDA, a BFC arena on the CPU, with CUDA graphs, or when asked", () => {
      expect(sharedArenaKind('cuda')).toBe('mempool');
      expect(sharedArenaKeys('cuda', 'pow2')).toMatchObject({
        use_cuda_mempool: 1,
        cuda_mempool_bytes_to_keep_on_shrink: 0,
      });
      // the fallback where the pool cannot be registered
      expect(sharedArenaKeys('cuda', 'pow2', 'bfc')).toEqual({ arena_extend_strategy: 0 });
      expect(sharedArenaKind('cpu')).toBe('bfc');
      expect(sharedArenaKeys('cpu', 'same')).toEqual({ arena_extend_strategy: 1 });
      process.env.SDFLOW_CUDA_GRAPHS = '1';
      expect(sharedArenaKind('cuda')).toBe('bfc');
      process.env.SDFLOW_ARENA_KIND = 'mempool';
      expect(sharedArenaKind('cuda')).toBe('mempool');
      process.env.SDFLOW_ARENA_KIND = 'bfc';
      delete process.env.SDFLOW_CUDA_GRAPHS;
      expect(sharedArenaKeys('cuda', 'pow2')).toEqual({ arena_extend_strategy: 0 });
      process.env.SDFLOW_ARENA_KIND = 'pool';
      expect(() => sharedArenaKind('cuda')).toThrow(/SDFLOW_ARENA_KIND must be one of bfc, mempool/);
    });

    it('gives keys this ONNX Runtime accepts (an unknown key is refused, so the check has teeth)', () => {
      const api = ortCApi();
      if (typeof api === 'string') throw new Error(api);
      const status = (keys: Record<string, number>) => {
        const out: unknown[] = [null];
        const st = api.call(
          'CreateArenaCfgV2',
          'void* CreateArenaCfgV2(const char** keys, const size_t* values, size_t n, _Out_ void** out)',
          Object.keys(keys),
          Object.values(keys),
          Object.keys(keys).length,
          out,
        );
        try {
          api.check(st, 'arena config');
          return 'ok';
        } catch (e) {
          return (e as Error).message;
        } finally {
          if (out[0]) api.call('ReleaseArenaCfg', 'void ReleaseArenaCfg(void* cfg)', out[0]);
        }
      };
      expect(status(sharedArenaKeys('cuda', 'pow2'))).toBe('ok');
      expect(status({ ...sharedArenaKeys('cuda', 'pow2'), use_cuda_pool: 1 })).toMatch(
        /Invalid key found: use_cuda_pool/,
      );
    });
  });
});
