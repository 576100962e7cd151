#!/usr/bin/env bash
# GPU machine: seed-table rows through `sdflow bench`, one process per row (clean per-row GPU peaks).
# Usage: gpu-rows.sh <app dir> <seconds per row> <bench args> -- <workflow>...   (graphs cached in /opt/sdflow-cache)
app=$1; per=$2; shift 2
args=(); while [ "$1" != "--" ]; do args+=("$1"); shift; done; shift
export SDFLOW_BACKEND_MODULE=$app/backend.mjs SDFLOW_BACKEND="$app/backend.mjs#createOnnxBackend"
export SDFLOW_CATALOG_MODULE=$app/catalog.mjs SDFLOW_SDXL_BASE_CONFIGS=$app/sdxl-base SDFLOW_BUILD_CACHE=/opt/sdflow-cache
mkdir -p /opt/sdflow-cache "$OUT/rows"
for wf in "$@"; do
  name=$(basename "$wf" .workflow.json)
  echo "== $name"
  timeout -s KILL "$per" node "$app/sdflow.mjs" bench "$wf" --device cuda "${args[@]}" --output /tmp/sdflow-out \
    --json "$OUT/rows/$name.json" > "$OUT/rows/$name.log" 2>&1
  echo "rc=$? $name" | tee -a "$OUT/rows/status.txt"
  grep -A2 "wall s" "$OUT/rows/$name.log" | head -4
done
