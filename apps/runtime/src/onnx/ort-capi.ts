// ONNX Runtime's C API through koffi (FFI), on the very library onnxruntime-node loaded, so the process keeps one
// environment: for what onnxruntime-node has no call for (a shared arena, sessions fed device-resident weights).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import koffi from 'koffi';

// OrtApi's function table is append-only: these slots hold from API version 16 on (onnxruntime_c_api.h's order)
export const ORT_API_VERSION = 16;
const SLOT = {
  GetErrorMessage: 2,
  CreateEnv: 3,
  CreateSession: 7,
  CreateSessionFromArray: 8,
  Run: 9,
  CreateSessionOptions: 10,
  DisableMemPattern: 17,
  SetSessionLogSeverityLevel: 22,
  SetSessionGraphOptimizationLevel: 23,
  SetIntraOpNumThreads: 24,
  SessionGetInputCount: 30,
  SessionGetOutputCount: 31,
  SessionGetInputTypeInfo: 33,
  SessionGetInputName: 36,
  SessionGetOutputName: 37,
  CreateRunOptions: 39,
  CreateTensorAsOrtValue: 48,
  CreateTensorWithDataAsOrtValue: 49,
  GetTensorMutableData: 51,
  CastTypeInfoToTensorInfo: 55,
  GetTensorElementType: 60,
  GetDimensionsCount: 61,
  GetDimensions: 62,
  GetTensorTypeAndShape: 65,
  CreateMemoryInfo: 68,
  CreateCpuMemoryInfo: 69,
  AllocatorFree: 76,
  GetAllocatorWithDefaultOptions: 78,
  ReleaseStatus: 93,
  ReleaseMemoryInfo: 94,
  ReleaseSession: 95,
  ReleaseValue: 96,
  ReleaseRunOptions: 97,
  ReleaseTypeInfo: 98,
  ReleaseTensorTypeAndShapeInfo: 99,
  ReleaseSessionOptions: 100,
  AddSessionConfigEntry: 130,
  CreateAllocator: 131,
  ReleaseAllocator: 132,
  ReleaseArenaCfg: 157,
  CreateArenaCfgV2: 164,
  AddRunConfigEntry: 165,
  SessionOptionsAppendExecutionProvider_CUDA_V2: 204,
  CreateCUDAProviderOptions: 205,
  UpdateCUDAProviderOptions: 206,
  ReleaseCUDAProviderOptions: 208,
  CreateAndRegisterAllocatorV2: 259,
  AddExternalInitializersFromFilesInMemory: 279,
} as const;
export type OrtApiSlot = keyof typeof SLOT;

export interface OrtCApi {
  readonly version: string;
  /** Calls the table's function at `slot` with a koffi prototype ("void* F(int a, _Out_ void** out)"), one per slot. */
  call(slot: OrtApiSlot, proto: string, ...args: unknown[]): unknown;
  /** Throws with ORT's message when a status is not null, releasing it. */
  check(status: unknown, what: string): void;
  /** The process's one environment: onnxruntime-node's, or created now and then shared with it. */
  env(): unknown;
}

let api: OrtCApi | string | undefined;

/** The C API, or why it can't be had. */
export function ortCApi(): OrtCApi | string {
  api ??= load();
  return api;
}

/** The ONNX Runtime version behind onnxruntime-node, read through the C API (or why it can't be). */
export function ortVersion(): string {
  const a = ortCApi();
  return typeof a === 'string' ? a : a.version;
}

/** The C API or an error naming `what` needed it. */
export function requireOrtCApi(what: string): OrtCApi {
  const a = ortCApi();
  if (typeof a === 'string') throw new Error(`${what}: ${a}`);
  return a;
}

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

function load(): OrtCApi | string {
  let lib: koffi.IKoffiLib;
  try {
    lib = koffi.load(ortLibraryPath());
  } catch (e) {
    return `ONNX Runtime's library could not be opened: ${(e as Error).message}`;
  }
  const base = lib.func('void* OrtGetApiBase()')();
  const fnAt = (ptr: unknown, slot: number) => koffi.decode(ptr, slot * 8, 'void*');
  const table = koffi.call(fnAt(base, 0), koffi.proto('void* GetApi(uint32_t version)'), ORT_API_VERSION);
  const version = koffi.call(fnAt(base, 1), koffi.proto('const char* GetVersionString()')) as string;
  if (!table) return `ONNX Runtime ${version} lacks C API version ${ORT_API_VERSION}`;
  const protos = new Map<string, koffi.IKoffiCType>();
  // koffi registers a prototype under its function name: each slot's gets the slot's name, whatever the caller wrote
  const call = (slot: OrtApiSlot, proto: string, ...args: unknown[]) => {
    let p = protos.get(slot);
    if (!p) {
      p = koffi.proto(proto.replace(/\w+\s*\(/, `${slot}(`));
      protos.set(slot, p);
    }
    return koffi.call(fnAt(table, SLOT[slot]), p, ...args);
  };
  const check = (status: unknown, what: string) => {
    if (!status) return;
    const message = call('GetErrorMessage', 'const char* GetErrorMessage(void* status)', status) as string;
    call('ReleaseStatus', 'void ReleaseStatus(void* status)', status);
    throw new Error(`${what}: ${message}`);
  };
  let envPtr: unknown;
  const env = () => {
    if (!envPtr) {
      const out: unknown[] = [null];
      check(
        call('CreateEnv', 'void* CreateEnv(int level, const char* id, _Out_ void** env)', 2, 'sdflow', out),
        'CreateEnv',
      );
      envPtr = out[0];
    }
    return envPtr;
  };
  return { version, call, check, env };
}
