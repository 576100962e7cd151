#!/usr/bin/env bash
# Bundles the runtime for the GPU machine (no Node.js modules there but onnxruntime-node from setup.sh) into
# .gpu-app/ at the repo root (git-ignored via .git/info/exclude): ESM bundles sharing chunks (module identity
# kept across the engine's worker, backend and catalog), the assets they read beside themselves, and sharp.
# On the GPU machine:  ln -sfn "$ORT_NODE_MODULES/onnxruntime-node" .gpu-app/node_modules/onnxruntime-node
#   SDFLOW_BACKEND_MODULE=$PWD/.gpu-app/backend.mjs SDFLOW_BACKEND=$PWD/.gpu-app/backend.mjs#createOnnxBackend \
#   SDFLOW_CATALOG_MODULE=$PWD/.gpu-app/catalog.mjs SDFLOW_SDXL_BASE_CONFIGS=$PWD/.gpu-app/sdxl-base \
#   node .gpu-app/sdflow.mjs bench ...        node .gpu-app/unet-step-bench.mjs ...
set -euo pipefail
root=$(git rev-parse --show-toplevel)
app=$root/.gpu-app
rt=$root/apps/runtime
grep -qx '/.gpu-app/' "$root/.git/info/exclude" 2>/dev/null || echo '/.gpu-app/' >> "$root/.git/info/exclude"
rm -rf "$app"
mkdir -p "$app/node_modules/@img"
npx esbuild --bundle --splitting --format=esm --platform=node --target=node20 \
  --external:onnxruntime-node --external:sharp --out-extension:.js=.mjs --outdir="$app" \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  "sdflow=$rt/scripts/gpu-entry.ts" \
  "engine-worker=$rt/src/engine/worker-main.ts" \
  "backend=$rt/scripts/gpu-backend-entry.ts" \
  "catalog=$root/nodes/src/catalog.ts" \
  "unet-step-bench=$rt/src/onnx/builders/unet-step-bench.ts" --log-level=warning
cp -r "$rt/src/models/configs/sdxl-base" "$app/sdxl-base"
find "$app/sdxl-base" -name '*.ts' -delete
cp "$rt/src/models/default-model/bpe_simple_vocab_16e6.txt.gz" "$app/"
[ -d "$rt/src/models/default-model/config" ] && cp -r "$rt/src/models/default-model/config" "$app/config"
for m in sharp @img/colour @img/sharp-linux-x64 @img/sharp-libvips-linux-x64 detect-libc semver; do
  cp -r "$root/node_modules/$m" "$app/node_modules/$m"
done
du -sh "$app"
