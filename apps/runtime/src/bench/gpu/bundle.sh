#!/usr/bin/env bash
# Bundles `sdflow bench` for the GPU machine (no Node.js tooling there) into .device/sdflow/ (git-ignored):
#   dist/        esbuild ESM bundle: sdflow-bench.mjs (entry), engine-worker.mjs, backend.mjs, catalog.mjs + chunks;
#                onnxruntime-node and sharp stay external
#   node_modules/ sharp and its linux-x64 binaries (onnxruntime-node is linked in on the machine, see run-gpu.sh)
#   configs/sdxl-base/  the SDXL base configs; workflows/seed/  the seed workflows
# Run from the repo root: bash apps/runtime/src/bench/gpu/bundle.sh
set -euo pipefail
root=$(git rev-parse --show-toplevel)
out=$root/.device/sdflow
rm -rf "$out"
mkdir -p "$out/dist" "$out/node_modules/@img" "$out/configs" "$out/workflows"
cd "$root"
npx esbuild \
  sdflow-bench=apps/runtime/src/bench/bench-cli.ts \
  engine-worker=apps/runtime/src/engine/worker-main.ts \
  backend=apps/runtime/src/backend/index.ts \
  catalog=nodes/src/catalog.ts \
  --bundle --platform=node --target=node20 --format=esm --splitting \
  --outdir="$out/dist" --out-extension:.js=.mjs \
  --external:onnxruntime-node --external:sharp \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --log-level=warning
# assets the bundled code reads beside itself (import.meta.url now points into dist/)
cp apps/runtime/src/models/default-model/bpe_simple_vocab_16e6.txt.gz "$out/dist/"
cp -r apps/runtime/src/models/default-model/config "$out/dist/config"
cp -r apps/runtime/src/models/configs/sdxl-base "$out/configs/"
rm -f "$out/configs/sdxl-base/"*.ts
cp -r workflows/seed "$out/workflows/"
cp -r node_modules/sharp node_modules/detect-libc node_modules/semver "$out/node_modules/"
cp -r node_modules/@img/sharp-linux-x64 node_modules/@img/sharp-libvips-linux-x64 node_modules/@img/colour "$out/node_modules/@img/" 2>/dev/null || true
du -sh "$out"
