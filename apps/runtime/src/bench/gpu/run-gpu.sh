#!/usr/bin/env bash
# On the lent GPU machine, from the repo copy's root, after `source .device/boot/setup.sh`:
#   run-gpu.sh init                 install the bundle (.device/sdflow, carried) into /opt/sdflow and start building
#                                   the sdxl-base-random graphs into /opt/cache in the background (CPU only)
#   run-gpu.sh status               build progress
#   run-gpu.sh bench <row> [args]   wait for the builds, then bench one seed row (e.g. 03) in its own process,
#                                   so its peak GPU memory is its own; JSON and logs go to $OUT
# See ../../../../../BENCHMARKS.md for the commands used and the figures.
set -uo pipefail
R=${SDFLOW_GPU_ROOT:-/opt}
S=$R/sdflow
export SDFLOW_BACKEND=$S/dist/backend.mjs#createOnnxBackend
export SDFLOW_CATALOG_MODULE=$S/dist/catalog.mjs
export SDFLOW_SDXL_BASE_CONFIGS=$S/configs/sdxl-base/
export SDFLOW_BUILD_CACHE=$R/cache
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" $R/cache $R/logs

prebuild() { # component precision
  local log=$R/logs/build-$1-$2.log
  [ -e "$log" ] && return
  setsid nohup node --max-old-space-size=60000 $S/dist/sdflow-bench.mjs prebuild --component "$1" --precision "$2" --target cuda >"$log" 2>&1 < /dev/null &
}

case "${1:-}" in
init)
  rm -rf $S && mkdir -p $S && cp -r .device/sdflow/. $S/
  ln -sfn "$ORT_NODE_MODULES/onnxruntime-node" $S/node_modules/onnxruntime-node
  cp .device/boot/setup.sh $S/setup.sh # later calls: source /opt/sdflow/setup.sh, no need to carry boot again
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
  nproc; free -g | head -2
  for c in unet text_encoder_2 text_encoder vae_decoder taesd_decoder; do prebuild $c fp16; done
  [ "${2:-}" = fp32 ] && for c in unet text_encoder_2 text_encoder; do prebuild $c fp32; done
  sleep 2; ls $R/logs
  ;;
status)
  for f in $R/logs/build-*.log; do echo "$f: $(tail -c 300 "$f")"; done
  ls $R/cache; df -h $R | tail -1
  ;;
bench)
  row=$2; shift 2
  while pgrep -f "sdflow-bench.mjs prebuild" >/dev/null; do sleep 2; done
  cat $R/logs/build-*.log
  wf=$(ls $S/workflows/seed/${row}-*.workflow.json)
  mkdir -p $R/out
  node --max-old-space-size=60000 $S/dist/sdflow-bench.mjs "$wf" --device cuda --models $R/models --output $R/out \
    --json "$OUT/row${row}.json" "$@" 2>&1 | tee "$OUT/row${row}.log"
  ;;
*)
  echo "usage: run-gpu.sh init [fp32] | status | bench <row> [bench args]"; exit 2
  ;;
esac
