#!/usr/bin/env bash
# On the lent GPU machine, from the repo copy's root, after `source .device/boot/setup.sh` (later calls on a warm
# machine: `source /opt/sdflow/setup.sh`). The bundle (.gpu-app/, from bundle.sh) travels as a carried path.
#   run.sh init                      install .gpu-app into /opt/sdflow, link onnxruntime-node, GPU info to $OUT/gpu.txt
#   run.sh prebuild [fp16|fp32]...   build the sdxl-base-random graphs into /opt/cache in the background, one process
#                                    per component (default fp16; fp32: unet and both text encoders)
#   run.sh status                    prebuild progress
#   run.sh bench [-t SECONDS] <row|workflow.json>... [-- <bench args>]
#                                    `sdflow bench --device cuda` once per workflow, each in its own process (its GPU
#                                    peak is its own), after any prebuild; a row number (03) names
#                                    workflows/seed/03-*.workflow.json; -t kills a row after SECONDS;
#                                    $OUT/rows/<name>.json and .log, exit codes in $OUT/rows/status.txt
#   run.sh micro <variants> [SECONDS] [unet-step-bench args]
#                                    UNet step micro-benchmark over fusion variants (and the MatMul rate), in $OUT
#   run.sh compare <row> <row>       the newest 4 saved images of two rows, pixel by pixel ($OUT/compare.txt)
#   run.sh matmul                    the card's fp16 MatMul rate (bench/matmul-rate.ts), $OUT/matmul.txt
#   run.sh unet [--profile]          full-size UNet step rate (bench/unet-rate.ts), $OUT/unet.txt
#   run.sh nsys                      nsys kernel summary of the default UNet variant, if nsys is on the machine
#   run.sh ktrace [variant] [forwards] [gap-ms] [unet-step-bench args: --attention matmul]
#                                    GPU kernel times of one UNet forward without nsys: builds ktrace/kernel-trace.c (a
#                                    CUPTI injection library) with gcc, runs unet-step-bench under it (variant default
#                                    'default:', 2 warm-ups + forwards timed, default 5) and summarises the trace
#                                    (bench/kernel-trace.ts); $OUT/ktrace/: kernel-trace.txt and .json, kernels.tsv.gz
# /opt is SDFLOW_GPU_ROOT when set. The commands behind the figures: BENCHMARKS.md (one per table) and
# apps/runtime/benchmarks/SITTINGS.md (every sitting's), whose records go in apps/runtime/benchmarks/<date>-<card>/.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
R=${SDFLOW_GPU_ROOT:-/opt}
S=$R/sdflow
OUT=${OUT:-/tmp/out}
export SDFLOW_BACKEND=$S/dist/backend.mjs#createOnnxBackend
export SDFLOW_CATALOG_MODULE=$S/dist/catalog.mjs
export SDFLOW_SDXL_BASE_CONFIGS=$S/configs/sdxl-base/
export SDFLOW_BUILD_CACHE=$R/cache
mkdir -p "$OUT" "$R/cache" "$R/logs" "$R/models" "$R/out"
gpu_info() { nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"; }

start_build() { # component precision
  local log=$R/logs/build-$1-$2.log
  [ -e "$log" ] && return
  setsid nohup node --max-old-space-size=60000 "$S/dist/sdflow-bench.mjs" prebuild --component "$1" --precision "$2" \
    --target cuda >"$log" 2>&1 </dev/null &
}

wait_builds() { while pgrep -f "sdflow-bench.mjs prebuild" >/dev/null; do sleep 2; done; }

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
init)
  [ -d "$repo/.gpu-app/dist" ] || { echo "no .gpu-app: run bundle.sh here and carry .gpu-app"; exit 2; }
  rm -rf "$S" && mkdir -p "$S" && cp -r "$repo/.gpu-app/." "$S/"
  ln -sfn "$ORT_NODE_MODULES/onnxruntime-node" "$S/node_modules/onnxruntime-node"
  [ -f "$repo/.device/boot/setup.sh" ] && cp "$repo/.device/boot/setup.sh" "$S/setup.sh"
  gpu_info
  nproc; free -g | head -2
  ;;
prebuild)
  for p in "${@:-fp16}"; do
    if [ "$p" = fp32 ]; then cs="unet text_encoder_2 text_encoder"; else cs="unet text_encoder_2 text_encoder vae_decoder taesd_decoder"; fi
    for c in $cs; do start_build "$c" "$p"; done
  done
  sleep 2; ls "$R/logs"
  ;;
status)
  for f in "$R"/logs/build-*.log; do [ -e "$f" ] && echo "$f: $(tail -c 300 "$f")"; done
  ls "$R/cache"; df -h "$R" | tail -1
  ;;
bench)
  limit=0
  if [ "${1:-}" = -t ]; then limit=$2; shift 2; fi
  wfs=(); while [ $# -gt 0 ] && [ "$1" != -- ]; do wfs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  [ ${#wfs[@]} -gt 0 ] || { echo "usage: run.sh bench [-t SECONDS] <row|workflow.json>... [-- <bench args>]"; exit 2; }
  wait_builds
  mkdir -p "$OUT/rows"
  for w in "${wfs[@]}"; do
    if [[ $w == *.json ]]; then wf=$w; else wf=$(ls "$repo"/workflows/seed/"$w"-*.workflow.json 2>/dev/null | head -1); fi
    [ -f "$wf" ] || { echo "no workflow for $w" | tee -a "$OUT/rows/status.txt"; continue; }
    name=$(basename "$wf" .workflow.json)
    echo "== $name"
    run=(node --max-old-space-size=60000 "$S/dist/sdflow.mjs" bench "$wf" --device cuda --models "$R/models"
      --output "$R/out" --json "$OUT/rows/$name.json" "$@")
    if [ "$limit" -gt 0 ]; then run=(timeout -s KILL "$limit" "${run[@]}"); fi
    "${run[@]}" >"$OUT/rows/$name.log" 2>&1
    echo "rc=$? $name" | tee -a "$OUT/rows/status.txt"
    grep -A2 "wall s" "$OUT/rows/$name.log" | head -4
  done
  ;;
micro)
  [ $# -gt 0 ] || { echo "usage: run.sh micro <variants> [SECONDS] [unet-step-bench args]"; exit 2; }
  variants=$1; limit=${2:-560}; shift $(($# < 2 ? $# : 2))
  gpu_info
  timeout "$limit" node "$S/dist/unet-step-bench.mjs" --device cuda --config "$S/configs/sdxl-base/unet/config.json" \
    --variants "$variants" --out "$OUT" "$@" 2>&1 | tee "$OUT/unet-step-bench.log" | grep -v '^\[unet-step-bench\]' | tail -30
  ;;
compare)
  [ $# -ge 2 ] || { echo "usage: run.sh compare <row> <row>: the newest 4 images of each, pixel by pixel"; exit 2; }
  pa=seed-$(basename "$(ls "$repo"/workflows/seed/"$1"-*.workflow.json)" .workflow.json)
  pb=seed-$(basename "$(ls "$repo"/workflows/seed/"$2"-*.workflow.json)" .workflow.json)
  node "$repo/apps/runtime/scripts/gpu/compare-images.mjs" "$R/out" "$pa" "$pb" | tee -a "$OUT/compare.txt"
  ;;
matmul)
  node "$S/dist/sdflow-bench.mjs" matmul cuda | tee "$OUT/matmul.txt"
  ;;
unet)
  node --max-old-space-size=60000 "$S/dist/sdflow-bench.mjs" unet cuda "$@" | tee "$OUT/unet.txt"
  ;;
nsys)
  N=$(ls /usr/local/cuda*/bin/nsys /opt/nvidia/nsight-systems*/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys \
    /usr/bin/nsys /usr/local/bin/nsys 2>/dev/null | head -1)
  echo "nsys=$N"
  [ -n "$N" ] || exit 0
  timeout -s KILL 200 "$N" profile -o /tmp/unet --force-overwrite true --trace=cuda node "$S/dist/unet-step-bench.mjs" \
    --device cuda --config "$S/configs/sdxl-base/unet/config.json" --variants 'default:' --warmup 2 --iters 3 \
    --matmul 0 --out "$OUT/nsys-run" 2>&1 | tail -3
  "$N" stats --report cuda_gpu_kern_sum --format csv --output "$OUT/kern" /tmp/unet.nsys-rep >/dev/null 2>&1
  ls "$OUT"; head -30 "$OUT"/kern*.csv | cut -c1-250
  ;;
ktrace)
  spec=${1:-default:}; fwd=${2:-5}; gap=${3:-1}; shift $(($# < 3 ? $# : 3))
  K=$OUT/ktrace; mkdir -p "$K" "$R/ktrace"
  command -v gcc >/dev/null || { echo "ktrace: gcc is not on this machine"; exit 3; }
  cu=${CUDA_HOME:-/usr/local/cuda-13.0}
  # CUPTI's header and library from one tree (extras/CUPTI in a toolkit install, include/ and lib/ or targets/ in
  # others); the CUDA 13 toolkit first, so that a distribution's older CUPTI under /usr is only a last resort
  hdr=; lib=
  for root in "$cu" /usr/local/cuda /usr; do
    [ -d "$root" ] || continue
    hdr=$(find -H "$root" -name cupti.h -not -path '*/samples/*' 2>/dev/null | sort | head -1)
    lib=$(find -H "$root" -name 'libcupti.so*' -not -path '*/samples/*' 2>/dev/null | sort | head -1)
    [ -n "$hdr" ] && [ -n "$lib" ] && break
  done
  [ -n "$hdr" ] && [ -n "$lib" ] || { echo "ktrace: CUPTI not found under $cu (cupti.h: '$hdr', libcupti.so: '$lib')"; exit 3; }
  inc=$(dirname "$hdr"); libdir=$(dirname "$lib")
  # the record structs this CUPTI fills: the newest version its header declares (CUDA 13.0: Kernel10, Memcpy6, Memset4)
  newest() { grep -oE "\}\s*CUpti_Activity$1[0-9]+\s*;" "$inc/cupti_activity.h" | grep -oE "CUpti_Activity$1[0-9]+" | sort -V | tail -1; }
  ks=$(newest Kernel); cs=$(newest Memcpy); ms=$(newest Memset)
  [ -n "$ks" ] || { echo "ktrace: no CUpti_ActivityKernelN struct in $inc/cupti_activity.h"; exit 3; }
  echo "ktrace: cupti.h in $inc, $lib; records $ks ${cs:-no-memcpy} ${ms:-no-memset}" | tee "$K/build.log"
  so=$R/ktrace/libktrace.so
  gcc -shared -fPIC -O2 -Wall -I"$inc" -I"$cu/include" -DKTRACE_KERNEL_RECORD="$ks" ${cs:+-DKTRACE_MEMCPY_RECORD=$cs} \
    ${ms:+-DKTRACE_MEMSET_RECORD=$ms} "$repo/apps/runtime/scripts/gpu/ktrace/kernel-trace.c" "$lib" \
    -Wl,-rpath,"$libdir" -lpthread -o "$so" >>"$K/build.log" 2>&1 || { cat "$K/build.log"; echo "ktrace: build failed"; exit 3; }
  agg=$S/dist/kernel-trace.mjs
  [ -f "$agg" ] || agg=$repo/.gpu-app/dist/kernel-trace.mjs
  [ -f "$agg" ] || { echo "ktrace: no kernel-trace.mjs: run bundle.sh here, carry .gpu-app and run.sh init"; exit 2; }
  gpu_info >/dev/null
  tsv=$R/ktrace/kernels.tsv; rm -f "$tsv"
  SDFLOW_KTRACE_OUT=$tsv CUDA_INJECTION64_PATH=$so LD_LIBRARY_PATH="$libdir:${LD_LIBRARY_PATH:-}" timeout 500 \
    node "$S/dist/unet-step-bench.mjs" --device cuda --config "$S/configs/sdxl-base/unet/config.json" \
    --variants "$spec" --warmup 2 --iters "$fwd" --matmul 0 --out "$K/bench" "$@" >"$K/bench.log" 2>&1
  echo "bench rc=$? (log: $K/bench.log)"; grep -E '^ktrace:|median|FAILED' "$K/bench.log" | head -8
  [ -s "$tsv" ] || { echo "ktrace: no trace at $tsv"; tail -20 "$K/bench.log"; exit 1; }
  gzip -c "$tsv" >"$K/kernels.tsv.gz"
  node "$agg" "$tsv" --forwards "$fwd" --gap-ms "$gap" --json "$K/kernel-trace.json" | tee "$K/kernel-trace.txt" | cut -c1-220
  ;;
*)
  echo "usage: run.sh init | prebuild [fp16|fp32]... | status | bench [-t SECONDS] <row|workflow.json>... [-- <bench args>]"
  echo "       | micro <variants> [SECONDS] [unet-step-bench args] | matmul | unet [--profile] | nsys"
  echo "       | ktrace [variant] [forwards] [gap-ms]"
  exit 2
  ;;
esac
