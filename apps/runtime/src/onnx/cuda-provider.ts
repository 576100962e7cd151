import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// ONNX Runtime loads its CUDA provider from beside onnxruntime-node's native library, and when it is missing prints
// pages of library-load errors from native code. Asked before a CUDA run instead: one line, pointing to the README.

const PROVIDER = 'libonnxruntime_providers_cuda.so';

/** The folder onnxruntime-node loads its native libraries from. */
export function ortNativeDir(): string {
  const pkg = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Why a CUDA run cannot start here, or undefined when the provider is installed (Linux; other systems: not asked). */
export function cudaProviderProblem(dir = ortNativeDir()): string | undefined {
  if (process.platform !== 'linux' || existsSync(path.join(dir, PROVIDER))) return undefined;
  return `the CUDA device needs ONNX Runtime's CUDA provider (${PROVIDER}), which is not installed beside onnxruntime-node; README.md, section "GPU", says how to add it`;
}
