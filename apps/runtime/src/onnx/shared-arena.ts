// One ONNX Runtime memory arena shared by sessions (an environment allocator, session config
// "session.use_env_allocators"), registered through ORT's C API by FFI: onnxruntime-node has no call for it. Each
// session otherwise keeps its own arena, so activations one component freed stay reserved while the next runs.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import koffi from 'koffi';

// OrtApi's function table is append-only: these slots hold from API version 16 on (onnxruntime_c_api.h's order)
const API_VERSION = 16;
const SLOT = {
  GetErrorMessage: 2,
  CreateEnv: 3,
  CreateMemoryInfo: 68,
  ReleaseStatus: 93,
  ReleaseMemoryInfo: 94,
  ReleaseArenaCfg: 157,
  CreateArenaCfgV2: 164,
  CreateAndRegisterAllocatorV2: 259,
} as const;
const LOG_WARNING = 2;
const ARENA_ALLOCATOR = 1;
const MEM_TYPE_DEFAULT = 0;
/** kNextPowerOfTwo (ONNX Runtime's default: regions double) or kSameAsRequested (a region per request) */
export type ArenaExtendStrategy = 'pow2' | 'same';
const EXTEND = { pow2: 0, same: 1 } as const;

export type SharedArenaDevice = 'cpu' | 'cuda';

/** Provider and memory names as ONNX Runtime spells them. */
const PROVIDER = { cpu: ['CPUExecutionProvider', 'Cpu'], cuda: ['CUDAExecutionProvider', 'Cuda'] } as const;

interface OrtApi {
  version: string;
  call(slot: keyof typeof SLOT, proto: string, ...args: unknown[]): unknown;
  /** Throws with ORT's message when a status is not null, releasing it. */
  check(status: unknown, what: string): void;
}

let api: OrtApi | string | undefined;
const registered = new Map<string, true | string>();

/** The ONNX Runtime library onnxruntime-node loaded (the same file, so the same process-wide environment). */
function ortLibraryPath(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const name =
    process.platform === 'win32'
      ? 'onnxruntime.dll'
      : process.platform === 'darwin'
        ? 'libonnxruntime.1.dylib'
        : 'libonnxruntime.so.1';
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch, name);
}

function loadApi(): OrtApi | string {
  let lib: koffi.IKoffiLib;
  try {
    lib = koffi.load(ortLibraryPath());
  } catch (e) {
    return `ONNX Runtime's library could not be opened: ${(e as Error).message}`;
  }
  const base = lib.func('void* OrtGetApiBase()')();
  const fnAt = (ptr: unknown, slot: number) => koffi.decode(ptr, slot * 8, 'void*');
  const table = koffi.call(fnAt(base, 0), koffi.proto('void* GetApi(uint32_t version)'), API_VERSION);
  const version = koffi.call(fnAt(base, 1), koffi.proto('const char* GetVersionString()')) as string;
  if (!table) return `ONNX Runtime ${version} lacks C API version ${API_VERSION}`;
  const protos = new Map<string, koffi.IKoffiCType>();
  const call = (slot: keyof typeof SLOT, proto: string, ...args: unknown[]) => {
    let p = protos.get(proto);
    if (!p) {
      p = koffi.proto(proto);
      protos.set(proto, p);
    }
    return koffi.call(fnAt(table, SLOT[slot]), p, ...args);
  };
  const check = (status: unknown, what: string) => {
    if (!status) return;
    const message = call('GetErrorMessage', 'const char* GetErrorMessage(void* status)', status) as string;
    call('ReleaseStatus', 'void ReleaseStatus(void* status)', status);
    throw new Error(`${what}: ${message}`);
  };
  return { version, call, check };
}

/** The ONNX Runtime version behind onnxruntime-node, read through the C API (or why it can't be). */
export function ortVersion(): string {
  api ??= loadApi();
  return typeof api === 'string' ? api : api.version;
}

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
    r = register(device, deviceId, extend);
    registered.set(key, r);
  }
  return r;
}

/** The session config entry that puts a session on the registered arena. */
export const sharedArenaConfig: Readonly<Record<string, string>> = { 'session.use_env_allocators': '1' };

function register(device: SharedArenaDevice, deviceId: number, extend: ArenaExtendStrategy): true | string {
  api ??= loadApi();
  if (typeof api === 'string') return api;
  const { call, check } = api;
  const [provider, memName] = PROVIDER[device];
  let memInfo: unknown = null;
  let arenaCfg: unknown = null;
  try {
    const envOut: unknown[] = [null];
    // the process's one environment: onnxruntime-node's, or created now and then shared with it
    check(
      call('CreateEnv', 'void* CreateEnv(int level, const char* id, _Out_ void** env)', LOG_WARNING, 'sdflow', envOut),
      'CreateEnv',
    );
    const memOut: unknown[] = [null];
    check(
      call(
        'CreateMemoryInfo',
        'void* CreateMemoryInfo(const char* name, int type, int id, int memType, _Out_ void** out)',
        memName,
        ARENA_ALLOCATOR,
        deviceId,
        MEM_TYPE_DEFAULT,
        memOut,
      ),
      'CreateMemoryInfo',
    );
    memInfo = memOut[0];
    const cfgOut: unknown[] = [null];
    check(
      call(
        'CreateArenaCfgV2',
        'void* CreateArenaCfgV2(const char** keys, const size_t* values, size_t n, _Out_ void** out)',
        ['arena_extend_strategy'],
        [EXTEND[extend]],
        1,
        cfgOut,
      ),
      'CreateArenaCfgV2',
    );
    arenaCfg = cfgOut[0];
    check(
      call(
        'CreateAndRegisterAllocatorV2',
        'void* CreateAndRegisterAllocatorV2(void* env, const char* provider, void* memInfo, void* arenaCfg, const char** keys, const char** values, size_t n)',
        envOut[0],
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
