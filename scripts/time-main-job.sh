#!/usr/bin/env bash
# Times the README's main job on a fresh clone: the release build, then the 15 newton
# epochs, exactly as the README runs them. Data comes from ETAPROBE_DATA (a local copy)
# unless DOWNLOAD=1, which adds the README's --download.
#
#   ETAPROBE_DATA=DIR scripts/time-main-job.sh [REPO]      # REPO: default, this checkout
set -u
repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
[ "${DOWNLOAD:-0}" = 1 ] || : "${ETAPROBE_DATA:?set ETAPROBE_DATA to a local copy of the data, or DOWNLOAD=1}"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
d=$(mktemp -d); git clone -q "$repo" "$d/x"; cd "$d/x" || exit 2
echo "clone: $d/x at $(git rev-parse --short HEAD)"
t0=$(date +%s)
cargo build --release 2>&1 | tail -2
t1=$(date +%s); echo "build_s=$((t1-t0))"
extra=(); [ "${DOWNLOAD:-0}" = 1 ] && extra=(--download)
cargo run --release -- train --schedule newton --lr 0.01 --epochs 15 "${extra[@]}" 2>&1 | tail -25
t2=$(date +%s); echo "run_s=$((t2-t1)) total_s=$((t2-t0))"
cat runs/*/epochs.csv
