import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Images, Latent, VaeHandle } from '@sdflow/nodes/values.ts';
import { createOnnxBackend, type OnnxBackend, type OnnxBackendOptions } from '../onnx-backend.ts';

// Test scaffolding shared by the backend's tests: backends over one work folder, and a plain VAE decode.

/** Backends writing under `work` (out/, cache/); disposeAll() releases them all and removes `work`. */
export function testBackends(work: string, modelsDir: string) {
  const created: OnnxBackend[] = [];
  return {
    create(options: Partial<OnnxBackendOptions> = {}): OnnxBackend {
      const b = createOnnxBackend({
        modelsDir,
        outputDir: path.join(work, 'out'),
        cacheDir: path.join(work, 'cache'),
        threads: 1,
        ...options,
      });
      created.push(b);
      return b;
    },
    async disposeAll(): Promise<void> {
      for (const b of created) await b.dispose();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** The sdxl-tiny fixture (a folder of `modelsDir`) on the CPU in fp32, without offload, as the parity tests run it. */
export function loadFixtureModel(backend: OnnxBackend, fixtureDir: string) {
  return backend.loadModel({
    model: path.basename(fixtureDir),
    precision: 'fp32',
    device: 'cpu',
    offload: { mode: 'none', budgetMiB: 0 },
  });
}

/** One decode of the whole batch: no slicing, no tiling (auto tiling on, as the node's default). */
export function plainDecode(
  backend: OnnxBackend,
  vae: VaeHandle,
  latent: Latent,
  signal: AbortSignal,
): Promise<Images> {
  return backend.vaeDecode({
    vae,
    latent,
    slicing: false,
    tiling: false,
    tileSize: 512,
    tileOverlap: 64,
    autoTiling: true,
    onProgress: () => undefined,
    signal,
  });
}
