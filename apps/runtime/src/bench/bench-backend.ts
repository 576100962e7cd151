import path from 'node:path';
import type { Device } from '@sdflow/nodes/values.ts';
import { backendSpec } from '../engine/backend-spec.ts';
import type { ModuleSpec } from '../engine/messages.ts';

// The backend and catalog the bench engine loads in its worker: the runtime's ONNX backend (SDFLOW_BACKEND
// overrides it, as for `sdflow run`) and the node catalog. A bundled build (esbuild, scripts/gpu/bundle.sh) names
// its catalog file through SDFLOW_CATALOG_MODULE, since the TypeScript path does not exist there.

export interface BenchBackendOptions {
  modelsDir?: string;
  outputDir: string;
  device?: Device;
}

export function defaultBackendSpec(opts: BenchBackendOptions): ModuleSpec {
  return backendSpec({
    modelsDir: path.resolve(opts.modelsDir ?? 'models'),
    outputDir: opts.outputDir,
    // the embedding cache lives beside the outputs: the warm-up run fills it, timed runs hit it
    cacheDir: path.join(opts.outputDir, 'embedding-cache'),
    ...(opts.device ? { device: opts.device } : {}),
  });
}

export function catalogSpec(): ModuleSpec | undefined {
  const module = process.env.SDFLOW_CATALOG_MODULE;
  return module ? { module, export: 'catalog' } : undefined;
}
