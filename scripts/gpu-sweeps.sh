#!/usr/bin/env bash
# Sweeps on a lent GPU machine, in one call (docs/gpu.md): the adapters (the call stops at
# once when no GPU answers, leaving device time for a fixed rerun), `bench probe` on
# LeNet-5, `bench matmul`, `bench probe` on ResNet-18 (batch 128: what sizes H4) and two
# epochs of the README's main job, each alone on the GPU, then the given sweep
# specs side by side, each with its --jobs, with the GPU-numerics tests beside them, until
# the deadline. A held-out spec whose pass 1 finishes goes on to its pass 2
# (scripts/pass2-spec.py). Then `compare` of each root, and its records packed for the trip
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
    { ldconfig -p | grep -i vulkan; ls -l /usr/share/vulkan/icd.d /etc/vulkan/icd.d \
        /usr/local/nvidia/share/vulkan/icd.d; nvidia-smi; } >"$out/no-gpu.log" 2>&1
    exit 3
fi
bench probe-lenet 45 probe --model lenet --batch-size 256 --steps 10 --rounds 3
# What sizes H4 (full-width ResNet-18) and the portable matmul, in under two minutes.
bench matmul 20 matmul --sizes 1024,4096
bench probe-resnet18 60 probe --model resnet18 --batch-size 128 --steps 2 --rounds 1
run main-job-2-epochs 45 "$etaprobe" train --schedule newton --lr 0.01 --epochs 2 \
    --out "$work/main-job" -q

# sweep_chain SPEC JOBS: pass 1, then pass 2 when pass 1 has val-tuned baselines and ended
# whole; each sweep ends by the deadline less the packing time.
sweep_chain() {
    local spec=$1 jobs=$2 name root left
    name=$(basename "$spec" .toml)
    root=$work/$name
    left=$((deadline - pack_seconds - SECONDS))
    [ "$left" -gt 0 ] || return 1
    timeout -k 30 "$left" "$etaprobe" sweep "$spec" --root "$root" --jobs "$jobs" \
        >"$out/sweep-$name.log" 2>&1
    # Out of time (124, 137) or a bad spec (2): no pass 2. A failed cell (1) is reported
    # in the sweep and leaves a gap in compare's table.
    case $? in 0 | 1) ;; *) return 1 ;; esac
    grep -q '^seeds = \[1\]' "$spec" || return 0
    "$etaprobe" compare "$root" >>"$out/sweep-$name.log" 2>&1 || return
    python3 scripts/pass2-spec.py "$spec" "$root" >"$work/$name-pass2.toml" 2>>"$out/sweep-$name.log" ||
        return
    left=$((deadline - pack_seconds - SECONDS))
    [ "$left" -gt 0 ] || return 1
    timeout -k 30 "$left" "$etaprobe" sweep "$work/$name-pass2.toml" --root "$root" \
        --jobs "$jobs" >>"$out/sweep-$name.log" 2>&1
}
pids=()
for arg in "$@"; do
    sweep_chain "${arg%:*}" "${arg##*:}" &
    pids+=($!)
done
run tests 150 "$bin/suite" ops:: lenet resnet train_step schedules
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
    if [ -f "$work/$name-pass2.toml" ]; then cp "$work/$name-pass2.toml" "$work/records/$name/"; fi
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
