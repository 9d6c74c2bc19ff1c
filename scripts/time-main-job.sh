#!/usr/bin/env bash
# Times the README's main job on a fresh clone: the release build, then the training,
# exactly as the README's first code block runs it (its `cargo run --release -- train`
# line is read from the README, so the two cannot drift apart). Data comes from
# ETAPROBE_DATA (a local copy) unless DOWNLOAD=1, which keeps the README's --download;
# without it the flag is dropped.
#
#   ETAPROBE_DATA=DIR scripts/time-main-job.sh [REPO]      # REPO: default, this checkout
set -uo pipefail
shopt -s nullglob
repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
[ "${DOWNLOAD:-0}" = 1 ] || : "${ETAPROBE_DATA:?set ETAPROBE_DATA to a local copy of the data, or DOWNLOAD=1}"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
d=$(mktemp -d); git clone -q "$repo" "$d/x"; cd "$d/x" || exit 2
echo "clone: $d/x at $(git rev-parse --short HEAD)"
line=$(grep -m1 '^cargo run --release -- train' README.md) || { echo "no 'cargo run --release -- train' line in README.md" >&2; exit 2; }
# The line is split on spaces as given: refuse what a shell would read otherwise (quotes,
# comments, continuations, expansions, a CR) rather than time another command.
case $line in
  *[\"\'#\\\$\`]* | *$'\r'*)
    echo "README.md's main-job line has quotes, a comment, a continuation or an expansion; this script only splits on spaces: $line" >&2
    exit 2 ;;
esac
read -r -a cmd <<<"$line"
if [ "${DOWNLOAD:-0}" != 1 ]; then
    kept=(); for a in "${cmd[@]}"; do [ "$a" = --download ] || kept+=("$a"); done; cmd=("${kept[@]}")
fi
echo "main job: ${cmd[*]}"
t0=$(date +%s)
cargo build --release 2>&1 | tail -2
t1=$(date +%s); echo "build_s=$((t1-t0))"
"${cmd[@]}" 2>&1 | tail -25 || { echo "the main job failed (exit ${PIPESTATUS[0]}): see above" >&2; exit 1; }
t2=$(date +%s); echo "run_s=$((t2-t1)) total_s=$((t2-t0))"
for f in runs/*/epochs.csv; do echo "$f"; cat "$f"; done
