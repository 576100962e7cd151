#!/usr/bin/env bash
# nsys kernel summary of the default UNet variant (GPU time per kernel), if nsys exists on the machine.
app=$1
N=$(ls /usr/local/cuda*/bin/nsys /opt/nvidia/nsight-systems*/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys /usr/bin/nsys /usr/local/bin/nsys 2>/dev/null | head -1)
echo "nsys=$N"
[ -n "$N" ] || exit 0
timeout -s KILL 200 "$N" profile -o /tmp/unet --force-overwrite true --trace=cuda node "$app/unet-step-bench.mjs" --device cuda \
  --config "$app/sdxl-base/unet/config.json" --variants 'default:' --warmup 2 --iters 3 --matmul 0 --out "$OUT/nsys-run" 2>&1 | tail -3
"$N" stats --report cuda_gpu_kern_sum --format csv --output "$OUT/kern" /tmp/unet.nsys-rep > /dev/null 2>&1
ls "$OUT"; head -30 "$OUT"/kern*.csv | cut -c1-250
