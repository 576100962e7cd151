// One ONNX Runtime memory arena shared by sessions (an environment allocator, session config
// "session.use_env_allocators"), registered through ORT's C API by FFI: onnxruntime-node has no call for it. Each
// session otherwise keeps its own arena, so activations one component freed stay reserved while the next runs.
import { cudaGraphsOn } from './cuda-graphs-switch.ts';
import { envSwitch } from './env-switch.ts';
import { ortCApi } from './ort-capi.ts';
import { memoryInfo } from './ort-values.ts';

/** kNextPowerOfTwo (ONNX Runtime's default: regions double) or kSameAsRequested (a region per request) */
export type ArenaExtendStrategy = 'pow2' | 'same';
const EXTEND = { pow2: 0, same: 1 } as const;

export type SharedArenaDevice = 'cpu' | 'cuda';

/** Provider and memory names as ONNX Runtime spells them. */
const PROVIDER = { cpu: ['CPUExecutionProvider', 'Cpu'], cuda: ['CUDAExecutionProvider', 'Cuda'] } as const;

const registered = new Map<string, true | string>();

/**
 * Registers, once per process and device, an arena that sessions created with `sharedArenaConfig` allocate from
 * (weights and activations). Returns true, or why not: then those sessions keep arenas of their own.
 */
export function registerSharedArena(
  device: SharedArenaDevice,
  deviceId = 0,
  extend: ArenaExtendStrategy = 'pow2',
): true | string {
  const key = `${device}:${deviceId}`;
  let r = registered.get(key);
  if (r === undefined) {
    const kind = sharedArenaKind(device);
    r = register(device, deviceId, sharedArenaKeys(device, extend, kind));
    // an ONNX Runtime or driver without the pool arena still shares a BFC arena
    if (r !== true && kind === 'mempool') {
      const bfc = register(device, deviceId, sharedArenaKeys(device, extend, 'bfc'));
      if (bfc === true)
        process.stderr.write(`sdflow: the shared ${device} arena is a BFC arena: no memory pool (${r})\n`);
      r = bfc === true ? true : `${r}; as a BFC arena: ${bfc}`;
    }
    registered.set(key, r);
  }
  return r;
}

/** Whether sessions on this device allocate from a registered shared arena. */
export function hasSharedArena(device: SharedArenaDevice, deviceId = 0): boolean {
  return registered.get(`${device}:${deviceId}`) === true;
}

const epochs = new Map<string, number>();

/** How many times something may have taken or returned the shared arena's free regions for good (a session made on
 *  it, a shrink): a CUDA graph captured over those regions (backend/unet-graphs.ts) is safe to replay only while
 *  this is unchanged. */
export function arenaEpoch(device: SharedArenaDevice, deviceId = 0): number {
  return epochs.get(`${device}:${deviceId}`) ?? 0;
}

export function bumpArenaEpoch(device: SharedArenaDevice, deviceId = 0): void {
  epochs.set(`${device}:${deviceId}`, arenaEpoch(device, deviceId) + 1);
}

/** The session config entry that puts a session on the registered arena. */
export const sharedArenaConfig: Readonly<Record<string, string>> = { 'session.use_env_allocators': '1' };

/** What the shared arena is made of: ONNX Runtime's BFC arena (regions that grow and are never merged), or on CUDA the
 *  driver's stream-ordered memory pool (cudaMallocAsync). The pool is the CUDA default: on an H200 it took row 5's
 *  peak from 17.42 to 15.89 GiB and row 3's from 22.27 to 21.39 at the same speed (BENCHMARKS.md, sitting AM).
 *  SDFLOW_ARENA_KIND=bfc keeps the BFC arena (comparisons), as do CUDA graphs, which were measured on it. */
export function sharedArenaKind(device: SharedArenaDevice): 'bfc' | 'mempool' {
  if (device !== 'cuda') return 'bfc';
  return envSwitch('SDFLOW_ARENA_KIND', ['bfc', 'mempool']) ?? (cudaGraphsOn() ? 'bfc' : 'mempool');
}

/** CreateArenaCfgV2's keys for the shared arena. The pool keeps what is freed (no release at each synchronization,
 *  which would give memory back between UNet steps only to map it again) until a shrink, which empties it. */
export function sharedArenaKeys(
  device: SharedArenaDevice,
  extend: ArenaExtendStrategy,
  kind = sharedArenaKind(device),
): Record<string, number> {
  const keys: Record<string, number> = { arena_extend_strategy: EXTEND[extend] };
  if (kind === 'mempool') {
    Object.assign(keys, {
      use_cuda_mempool: 1,
      cuda_mempool_release_threshold: 2 ** 40,
      cuda_mempool_bytes_to_keep_on_shrink: 0,
    });
  }
  return keys;
}

function register(device: SharedArenaDevice, deviceId: number, cfg: Record<string, number>): true | string {
  const api = ortCApi();
  if (typeof api === 'string') return api;
  const { call, check } = api;
  const [provider, memName] = PROVIDER[device];
  let memInfo: unknown = null;
  let arenaCfg: unknown = null;
  try {
    const env = api.env();
    memInfo = memoryInfo(api, memName, deviceId, `the shared ${provider} arena's memory info`);
    const cfgOut: unknown[] = [null];
    check(
      call(
        'CreateArenaCfgV2',
        'void* CreateArenaCfgV2(const char** keys, const size_t* values, size_t n, _Out_ void** out)',
        Object.keys(cfg),
        Object.values(cfg),
        Object.keys(cfg).length,
        cfgOut,
      ),
      'CreateArenaCfgV2',
    );
    arenaCfg = cfgOut[0];
    check(
      call(
        'CreateAndRegisterAllocatorV2',
        'void* CreateAndRegisterAllocatorV2(void* env, const char* provider, void* memInfo, void* arenaCfg, const char** keys, const char** values, size_t n)',
        env,
        provider,
        memInfo,
        arenaCfg,
        null,
        null,
        0,
      ),
      `registering a shared ${provider} arena`,
    );
    return true;
  } catch (e) {
    return (e as Error).message;
  } finally {
    if (arenaCfg) call('ReleaseArenaCfg', 'void ReleaseArenaCfg(void* cfg)', arenaCfg);
    if (memInfo) call('ReleaseMemoryInfo', 'void ReleaseMemoryInfo(void* info)', memInfo);
  }
}
