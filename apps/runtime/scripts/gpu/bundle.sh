#!/usr/bin/env bash
# Bundles the runtime for the GPU machine (no Node.js tooling there, only node and onnxruntime-node from
# .device/boot/setup.sh) into .gpu-app/ at the repo root (git-ignored); run.sh installs and runs it there:
#   dist/               esbuild ESM bundles sharing chunks (one module identity across the engine's worker, backend
#                       and catalog): sdflow.mjs (the whole CLI), sdflow-bench.mjs (bench, prebuild, matmul, unet),
#                       unet-step-bench.mjs, engine-worker.mjs, noise-worker.mjs, backend.mjs, catalog.mjs; plus the
#                       assets the bundled code reads beside itself. onnxruntime-node and sharp stay external.
#   configs/sdxl-base/  the SDXL base configs (SDFLOW_SDXL_BASE_CONFIGS)
#   node_modules/       sharp and koffi with their linux-x64 binaries (run.sh init links onnxruntime-node in)
# Run from anywhere: bash apps/runtime/scripts/gpu/bundle.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
out=$root/.gpu-app
rt=apps/runtime
cd "$root"
rm -rf "$out"
mkdir -p "$out/dist" "$out/configs" "$out/node_modules/@img"
npx esbuild \
  sdflow=$rt/scripts/gpu/sdflow-entry.ts \
  sdflow-bench=$rt/src/bench/bench-cli.ts \
  unet-step-bench=$rt/src/onnx/builders/unet-step-bench.ts \
  kernel-trace=$rt/src/bench/kernel-trace-cli.ts \
  engine-worker=$rt/src/engine/worker-main.ts \
  noise-worker=$rt/src/backend/noise-worker-main.ts \
  backend=$rt/src/backend/index.ts \
  catalog=nodes/src/catalog.ts \
  --bundle --splitting --format=esm --platform=node --target=node20 \
  --outdir="$out/dist" --out-extension:.js=.mjs \
  --external:onnxruntime-node --external:sharp --external:koffi \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --log-level=warning
# assets read through import.meta.url, which now points into dist/
cp $rt/src/models/default-model/bpe_simple_vocab_16e6.txt.gz "$out/dist/"
cp -r $rt/src/models/default-model/config "$out/dist/config"
cp -r $rt/src/models/configs/sdxl-base "$out/configs/"
find "$out/configs" -name '*.ts' -delete
cp -r node_modules/sharp node_modules/detect-libc node_modules/semver "$out/node_modules/"
# koffi (host pinning's FFI) with its linux-x64 binary only
mkdir -p "$out/node_modules/koffi/build/koffi"
cp node_modules/koffi/package.json node_modules/koffi/index.js "$out/node_modules/koffi/"
cp -r node_modules/koffi/build/koffi/linux_x64 "$out/node_modules/koffi/build/koffi/"
for m in colour sharp-linux-x64 sharp-libvips-linux-x64; do
  if [ -d "node_modules/@img/$m" ]; then cp -r "node_modules/@img/$m" "$out/node_modules/@img/"; fi
done
du -sh "$out"
