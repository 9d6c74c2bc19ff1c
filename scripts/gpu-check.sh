#!/usr/bin/env bash
# What a GPU should tell us, in one call (docs/gpu.md): the adapters, the test suite on the
# GPU, matmul GFLOP/s, the cost of every rule, GPU memory, and short LeNet-5 and ResNet-18
# trainings with basic and auto. Installs nothing from the network: it runs the binaries
# and data of gpu-kit/ (built here by scripts/gpu-kit.sh) and unpacks the Vulkan loader it
# carries when the machine has none.
#
#   scripts/gpu-check.sh [--quick]
#
# Writes $OUT/gpu-check.json (a summary) and a log per step under $OUT (default:
# gpu-check-out), within GPU_CHECK_SECONDS (default 520). --quick runs a small version of every step on the software adapter, in a
# few minutes, to show that the check works before a GPU is ever available. Every step has
# a time limit and the check goes on after a failed step; it exits 1 when any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."

quick=false
case "${1:-}" in
    "") ;;
    --quick) quick=true ;;
    *) echo "usage: scripts/gpu-check.sh [--quick]" >&2; exit 2 ;;
esac
default_out=gpu-check-out
# The whole check ends by this many seconds (the device tool allows 10 minutes a call).
deadline=${GPU_CHECK_SECONDS:-520}
# shellcheck source=scripts/gpu-common.sh
. scripts/gpu-common.sh
if $quick; then
    export ETAPROBE_ADAPTER=${ETAPROBE_ADAPTER:-llvmpipe}
fi

run devices 30 "$etaprobe" devices
if $quick; then
    lenet=(--max-steps 20)
    resnet=(--width-mult 0.0625 --max-steps 3 --batch-size 8)
    run tests 300 "$bin/suite" ops::matmul ops::conv train_step
else
    lenet=(--epochs 1 --batch-size 256)
    resnet=(--max-steps 50 --batch-size 256)
    run tests 180 "$bin/suite"
fi
# The trainings before the benchmarks: when time runs short, the benchmarks give way.
for schedule in basic auto; do
    run "train-lenet-$schedule" 60 "$etaprobe" train --model lenet --dataset cifar10 \
        --schedule "$schedule" --seed 1 --out "$out/runs/lenet-$schedule" "${lenet[@]}"
    run "train-resnet18-$schedule" 75 "$etaprobe" train --model resnet18 --dataset cifar10 \
        --schedule "$schedule" --seed 1 --out "$out/runs/resnet18-$schedule" "${resnet[@]}"
done
if $quick; then
    bench matmul 60 matmul --sizes 256
    for tile in 4x4 8x8; do
        ETAPROBE_NO_SUBGROUPS=1 ETAPROBE_MM_TILE=$tile bench "matmul-portable-$tile" 60 matmul --sizes 256
    done
    bench probe-lenet 120 probe --model lenet --batch-size 32 --steps 2 --rounds 1
    bench probe-resnet18 180 probe --model resnet18 --width-mult 0.0625 --batch-size 4 --steps 1 --rounds 1
    run memory 60 "$etaprobe" bench memory --model resnet18 --width-mult 0.25 --batch-sizes 8
else
    bench matmul 45 matmul --sizes 256,512,1024,2048,4096
    # The portable kernel's register blocks (a GPU without 8-lane subgroups uses it anyway;
    # ETAPROBE_NO_SUBGROUPS makes sure).
    for tile in 2x2 4x4 8x4 4x8 8x8; do
        ETAPROBE_NO_SUBGROUPS=1 ETAPROBE_MM_TILE=$tile bench "matmul-portable-$tile" 20 matmul \
            --sizes 1024,2048,4096
    done
    bench probe-lenet 45 probe --model lenet --batch-size 256 --steps 12 --rounds 3
    bench probe-resnet18 90 probe --model resnet18 --batch-size 256 --steps 4 --rounds 2
    run memory 30 "$etaprobe" bench memory --model resnet18 --batch-sizes 32,256
    run chunking 45 "$bin/resnet_chunking"
fi

# The summary: the steps, the benchmarks' JSON and the runs' totals as they are.
{
    echo "{"
    echo "\"quick\": $quick,"
    echo "\"adapter\": \"${ETAPROBE_ADAPTER:-preferred}\","
    echo "\"steps\": [$(IFS=,; echo "${steps[*]}")],"
    for b in "$out"/matmul-portable-*.json; do
        echo "\"$(basename "$b" .json)\": $(embed "$b"),"
    done
    for b in matmul probe-lenet probe-resnet18; do
        echo "\"$b\": $(embed "$out/$b.json"),"
    done
    for r in lenet-basic lenet-auto resnet18-basic resnet18-auto; do
        echo "\"run-$r\": $(embed "$out/runs/$r/run.json"),"
    done
    echo "\"failed\": $failed"
    echo "}"
} >"$out/gpu-check.json"
echo "summary: $out/gpu-check.json" >&2
exit "$failed"
