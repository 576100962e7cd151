#!/usr/bin/env bash
# GPU machine: the UNet step micro-benchmark over fusion variants (see BENCHMARKS.md). Usage: gpu-micro.sh <app dir> <variants> [seconds]
app=$1; variants=$2; limit=${3:-560}
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv | tee "$OUT/nvidia-smi.txt"
timeout "$limit" node "$app/unet-step-bench.mjs" --device cuda --config "$app/sdxl-base/unet/config.json" \
  --variants "$variants" --out "$OUT" 2>&1 | tee "$OUT/unet-step-bench.log" | grep -v '^\[unet-step-bench\]' | tail -30
