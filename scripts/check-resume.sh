#!/usr/bin/env bash
# Checks that every rule resumes exactly on the real models: for each rule of
# `etaprobe train --schedule`, a LeNet-5 / CIFAR-10 run of 2·H steps straight through, and
# the same run stopped after H steps and resumed from its checkpoint, must write the same
# steps.csv and rule.csv byte for byte, and the same final epochs.csv line but for its
# wall-clock seconds; likewise a ResNet-18 (width 0.25) run of 2·R steps.
#
#   scripts/check-resume.sh BINARY OUT_DIR [DATA_DIR]
#
# DATA_DIR holds cifar10-jpeg (default: ETAPROBE_DATA, else ../shared/data); a subset such
# as gpu-kit/data (scripts/gpu-kit.sh) makes the evaluations quick. Exit 1 on a difference.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
bin=$1 out=$2 data=${3:-${ETAPROBE_DATA:-../shared/data}}
[ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }
[ -e "$out" ] && { echo "$out exists; give a new folder" >&2; exit 2; }
mkdir -p "$out"
H=${RESUME_HALF:-20} R=${RESUME_RESNET_HALF:-3}
rules=$("$bin" train --help | sed -n '/--schedule <SCHEDULE>/,/--lr /p' |
    sed -n 's/^ *- \([a-z-]*\): .*/\1/p')
[ -n "$rules" ] || { echo "no rules found in --help" >&2; exit 1; }

failed=0
check() {
    local name=$1 half=$2
    shift 2
    local straight="$out/$name-straight" split="$out/$name-split"
    # A run may diverge (the paper's rules are unguarded): then both must, alike.
    local a=0 b=0
    "$bin" train "$@" --max-steps $((2 * half)) --out "$straight" >"$straight.log" 2>&1 || a=$?
    "$bin" train "$@" --max-steps "$half" --out "$split" >"$split.log" 2>&1 || b=$?
    if [ "$b" = 0 ]; then
        "$bin" train "$@" --max-steps $((2 * half)) --resume "$split/checkpoint.safetensors" \
            >>"$split.log" 2>&1 || b=$?
    fi
    local same=yes
    [ "$a" = "$b" ] || same="no (exit $a straight, $b split)"
    for f in steps.csv rule.csv; do
        if [ -e "$straight/$f" ] || [ -e "$split/$f" ]; then
            cmp -s "$straight/$f" "$split/$f" || same="no ($f)"
        fi
    done
    # The last epoch line, without its seconds column.
    last() { tail -n 1 "$1/epochs.csv" | awk -F, -v OFS=, '{ $NF = ""; print }'; }
    [ "$(last "$straight")" = "$(last "$split")" ] || same="no (epochs.csv)"
    echo "$name: resumes exactly: $same (exit $a)"
    [ "$same" = yes ] || failed=1
}

for rule in $rules; do
    check "lenet-$rule" "$H" --model lenet --dataset cifar10 --data "$data" \
        --schedule "$rule" --batch-size 32 --seed 1
    check "resnet18-$rule" "$R" --model resnet18 --width-mult 0.25 --dataset cifar10 \
        --data "$data" --schedule "$rule" --batch-size 32 --seed 1 --bn-recompute-batches 5
done
exit $failed
