#!/usr/bin/env bash
# Sweeps on a lent GPU machine, in one call (docs/gpu.md): the adapters (the call stops at
# once when no GPU answers, leaving device time for a fixed rerun), `bench probe` on
# LeNet-5, `bench matmul`, `bench probe` on ResNet-18 (batch 128: what sizes H4) and one
# epoch of the README's main job, each alone on the GPU, then the given sweep
# specs side by side, each with its --jobs, with the GPU-numerics tests beside them, until
# the deadline (a held-out task's pass 2 is left to scripts/heldout-lane.sh, after its
# grid-edge rounds). Then `compare` of each root, and its records packed for the trip
# back: $OUT/records.tar.part-NN (cat them, then untar) hold what scripts/keep-records.sh
# keeps, $OUT/logs.tar.xz every log, $OUT/gpu-sweeps.json the summary.
#
#   scripts/gpu-sweeps.sh SPEC:JOBS [SPEC:JOBS ...]
#
# Needs gpu-kit/ (scripts/gpu-kit.sh full: the whole CIFAR-10). Ends by GPU_SWEEPS_SECONDS
# (default 560; the device tool allows 600 a command); unfinished cells stay unfinished
# and are not packed. Exits 1 when a step failed or ran out of time.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
    echo "usage: scripts/gpu-sweeps.sh SPEC:JOBS [SPEC:JOBS ...]" >&2
    exit 2
fi
for arg in "$@"; do
    spec=${arg%:*} jobs=${arg##*:}
    case "$jobs" in '' | *[!0-9]*) echo "$arg: give SPEC:JOBS" >&2; exit 2 ;; esac
    [ -f "$spec" ] || { echo "$spec: no such spec" >&2; exit 2; }
done
default_out=gpu-sweeps-out
deadline=${GPU_SWEEPS_SECONDS:-560}
# Packing the records takes this long at the end.
pack_seconds=45
# shellcheck source=scripts/gpu-common.sh
. scripts/gpu-common.sh
work=${GPU_SWEEPS_WORK:-/tmp/gpu-sweeps}
mkdir -p "$work"

run devices 30 "$etaprobe" devices
if [ -z "${GPU_SWEEPS_ALLOW_CPU:-}" ] &&
    ! grep -q '^\*.*\(discrete\|integrated\|virtual\) GPU' "$out/devices.log"; then
    echo "no GPU adapter is the chosen one: stopping here" >&2
    { ldconfig -p | grep -i -e vulkan -e GLdispatch -e nvidia; ls -l /usr/share/vulkan/icd.d /etc/vulkan/icd.d \
        /usr/local/nvidia/share/vulkan/icd.d; cat /usr/local/nvidia/share/vulkan/icd.d/*.json; nvidia-smi
        env | grep -e VK_ -e LD_LIBRARY; VK_LOADER_DEBUG=error,warn,driver "$etaprobe" devices; } >"$out/no-gpu.log" 2>&1
    exit 3
fi
bench probe-lenet 45 probe --model lenet --batch-size 256 --steps 12 --rounds 3
# What sizes H4 (full-width ResNet-18) and the portable matmul, in under two minutes.
bench matmul 20 matmul --sizes 1024,4096
bench probe-resnet18 60 probe --model resnet18 --batch-size 128 --steps 4 --rounds 1
# The README's main job (its `cargo run --release -- train` line: keep the two in step),
# one epoch of it: the cosine then decays within that epoch, so its accuracy is not the
# 10-epoch run's epoch 1; what it measures is the time of an epoch.
run main-job-1-epoch 40 "$etaprobe" train --optimizer momentum --lr-decay cosine --lr 0.03 \
    --batch-size 128 --val-split 0.1 --seed 1 --epochs 1 --out "$work/main-job" -q

# sweep_pass SPEC JOBS: the spec's cells until the deadline less the packing time. A
# held-out task's pass 2 is not chained here: it follows the grid-edge rounds
# (scripts/heldout-lane.sh), which read pass 1 whole, wherever its cells ran.
sweep_pass() {
    local spec=$1 jobs=$2 name left
    name=$(basename "$spec" .toml)
    # Cells already finished elsewhere travel as kept records (gpu-kit/records/NAME, a copy
    # of docs/runs/NAME: docs/runs itself stays behind, scripts/device-tree.sh): the root
    # starts from them, so that `sweep` skips them.
    if [ -f "$kit/records/$name/sweep.json" ] && [ ! -e "$work/$name" ]; then
        scripts/restore-root.sh "$kit/records/$name" "$work/$name" >"$out/restore-$name.log" 2>&1 ||
            return 1
    fi
    left=$((deadline - pack_seconds - SECONDS))
    [ "$left" -gt 0 ] || return 1
    timeout -k 30 "$left" "$etaprobe" sweep "$spec" --root "$work/$name" --jobs "$jobs" \
        >"$out/sweep-$name.log" 2>&1
    # Out of time (124, 137) or a bad spec (2) fail the step; a failed cell (1, e.g. a
    # diverged run, which the protocol counts) is reported in the sweep's manifest.
    case $? in 0 | 1) ;; *) return 1 ;; esac
}
pids=()
for arg in "$@"; do
    sweep_pass "${arg%:*}" "${arg##*:}" &
    pids+=($!)
done
run tests 150 "$bin/suite" ops:: lenet resnet train_step schedules --test-threads "${GPU_SWEEPS_TEST_THREADS:-4}"
for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
done
# A killed sweep's runs stop at their next step; let them go before packing.
for _ in $(seq 20); do
    pgrep -f "$etaprobe train" >/dev/null || break
    sleep 1
done

mkdir -p "$work/records"
for arg in "$@"; do
    name=$(basename "${arg%:*}" .toml)
    root=$work/$name
    [ -f "$root/sweep.json" ] || continue
    "$etaprobe" compare "$root" >>"$out/sweep-$name.log" 2>&1
    scripts/keep-records.sh "$root" "$work/records/$name" >>"$out/sweep-$name.log" 2>&1
done
[ -f "$work/main-job/epochs.csv" ] && cp "$work/main-job/epochs.csv" "$out/main-job-epochs.csv"
{
    echo "{"
    echo "\"steps\": [$(IFS=,; echo "${steps[*]}")],"
    for b in probe-lenet matmul probe-resnet18; do
        echo "\"$b\": $(embed "$out/$b.json"),"
    done
    echo "\"main-job\": $(embed "$work/main-job/run.json"),"
    echo "\"failed\": $failed"
    echo "}"
} >"$out/gpu-sweeps.json"
# The device tool brings back at most 8 files of 16 MiB: the logs in one archive, the
# records (gzipped CSVs already) in one tar cut into 15 MiB parts.
(cd "$out" && tar -cf - --exclude='logs.tar.xz' --exclude='gpu-sweeps.json' --exclude='records.tar.part-*' . |
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(sys.stdin.buffer, lzma.open(sys.argv[1], "wb"))' logs.tar.xz &&
    find . -maxdepth 1 -type f ! -name logs.tar.xz ! -name gpu-sweeps.json -delete)
tar -C "$work/records" -cf - . | split -b 15M -d - "$out/records.tar.part-"
exit "$failed"
