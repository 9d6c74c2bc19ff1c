#!/usr/bin/env bash
# Checks that a change of structure changed no behaviour: runs the same short trainings with
# two binaries and compares their records byte for byte (all but the `seconds` column of
# epochs.csv, which is wall-clock time).
#
#   scripts/check-behaviour.sh run BINARY OUT_DIR     # records of one binary
#   scripts/check-behaviour.sh compare DIR_A DIR_B    # exit 1 on any difference
#
# The grid: 50-step LeNet-5 / CIFAR-10 runs of every paper and etaprobe rule with each
# optimizer, and a 3-step ResNet-18 (width 0.25, dropout 0.2) newton run. It needs CIFAR-10
# (ETAPROBE_DATA, e.g. ../shared/data in this team's layout, or a `--download`ed cache).
set -euo pipefail

usage() {
    sed -n '2,11p' "$0" >&2
    exit 2
}

run_grid() {
    local bin=$1 out=$2
    [ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }
    if [ -e "$out" ]; then
        echo "$out exists; give a new folder" >&2
        exit 2
    fi
    mkdir -p "$out"
    local data=${ETAPROBE_DATA:-../shared/data}
    for schedule in basic first-order newton secant auto; do
        for optimizer in sgd momentum adam; do
            local dir="$out/lenet-$schedule-$optimizer"
            "$bin" train --model lenet --dataset cifar10 --data "$data" --schedule "$schedule" \
                --optimizer "$optimizer" --batch-size 32 --max-steps 50 --seed 1 \
                --out "$dir" >"$dir.log" 2>&1 && status=0 || status=$?
            record "$dir" "$status"
        done
    done
    local dir="$out/resnet18-newton"
    "$bin" train --model resnet18 --width-mult 0.25 --dropout 0.2 --dataset cifar10 \
        --data "$data" --schedule newton --batch-size 32 --max-steps 3 --seed 1 \
        --out "$dir" >"$dir.log" 2>&1 && status=0 || status=$?
    record "$dir" "$status"
}

# Keeps a run's exit code and its last line (a run that diverges is behaviour too: the
# paper's rules are unguarded), and stops on a run that left no records at all.
record() {
    local dir=$1 status=$2
    # The message names the run's folder and its speed: compare it without the grid's own
    # root and without times.
    {
        echo "exit $status"
        tail -n 1 "$dir.log" | sed -e "s#${dir%/*}/##g" \
            -e 's/in [0-9.]* s ([0-9]* images\/s)/in (time)/'
    } >"$dir.status"
    if [ ! -s "$dir/steps.csv" ]; then
        echo "no records: $dir (see $dir.log)" >&2
        exit 1
    fi
    echo "$dir: exit $status"
}

# epochs.csv without its last column (seconds).
without_seconds() {
    cut -d, -f1-6 "$1"
}

compare_grids() {
    local a=$1 b=$2 differ=0 runs=0
    for dir in "$a"/*/; do
        local name
        name=$(basename "$dir")
        runs=$((runs + 1))
        if [ ! -d "$b/$name" ]; then
            echo "missing in $b: $name"
            differ=1
            continue
        fi
        if ! cmp -s "$a/$name/steps.csv" "$b/$name/steps.csv"; then
            echo "steps.csv differs: $name"
            differ=1
        fi
        if ! cmp -s <(without_seconds "$a/$name/epochs.csv") <(without_seconds "$b/$name/epochs.csv"); then
            echo "epochs.csv differs: $name"
            differ=1
        fi
        if ! cmp -s "$a/$name.status" "$b/$name.status"; then
            echo "exit status or last message differs: $name"
            differ=1
        fi
        for extra in rule.csv evals.csv; do
            if [ -e "$a/$name/$extra" ] || [ -e "$b/$name/$extra" ]; then
                cmp -s "$a/$name/$extra" "$b/$name/$extra" || { echo "$extra differs: $name"; differ=1; }
            fi
        done
    done
    if [ "$runs" = 0 ]; then
        echo "no runs in $a" >&2
        exit 2
    fi
    if [ "$differ" = 0 ]; then
        echo "identical: $runs runs (steps.csv, epochs.csv without seconds, rule.csv, evals.csv, exit status and last message)"
    fi
    return "$differ"
}

case "${1:-}" in
    run) [ $# = 3 ] || usage; run_grid "$2" "$3" ;;
    compare) [ $# = 3 ] || usage; compare_grids "$2" "$3" ;;
    *) usage ;;
esac
