#!/usr/bin/env bash
# The device tool sends the working tree (tracked files and untracked ones git does not
# ignore) and the carried paths, 64 MiB in all; the committed records under docs/runs are
# 145 MiB alone (151,640,280 bytes in 5,832 files at d5e0f08: the sizes of
# `git ls-files docs/runs` summed). Before a device call, take them out of the index and
# the tree (not out of the history: nothing is committed); after it, put them back:
#
#   scripts/device-tree.sh shrink    # docs/runs moved to ../docs-runs-aside, ignored, unstaged
#   (the device call, carrying gpu-kit)
#   scripts/device-tree.sh restore   # docs/runs back, the index as HEAD has it
#
# `shrink` refuses when anything is staged or docs/runs differs from HEAD, so `restore`
# gives back exactly what was there; commit nothing between the two.
set -euo pipefail
cd "$(dirname "$0")/.."
aside=../docs-runs-aside
exclude=.git/info/exclude
line=/docs/runs/

# travelling_mib: the tracked files still in the tree, and the untracked ones not ignored.
travelling_mib() {
    git ls-files -z --cached --others --exclude-standard |
        xargs -0 -r stat -c %s -- 2>/dev/null | awk '{ s += $1 } END { printf "%.1f", s / 1048576 }'
}

case "${1:-}" in
shrink)
    if [ -e "$aside" ]; then
        echo "$aside exists: restore first (scripts/device-tree.sh restore)" >&2
        exit 2
    fi
    if ! git diff --cached --quiet; then
        echo "something is staged: commit or unstage it first" >&2
        exit 2
    fi
    if [ -n "$(git status --porcelain -- docs/runs)" ]; then
        echo "docs/runs differs from HEAD: commit it first" >&2
        exit 2
    fi
    git rm -r -q --cached docs/runs
    mkdir -p "$(dirname "$exclude")"
    grep -qxF "$line" "$exclude" 2>/dev/null || echo "$line" >>"$exclude"
    mv docs/runs "$aside"
    echo "docs/runs is aside; what travels now: $(travelling_mib) MiB, plus what is carried"
    ;;
restore)
    if [ ! -d "$aside" ]; then
        echo "nothing to restore: $aside is missing" >&2
        exit 2
    fi
    if [ -e docs/runs ]; then
        echo "docs/runs exists again: move it away or merge it into $aside first" >&2
        exit 2
    fi
    mv "$aside" docs/runs
    git reset -q -- docs/runs
    if [ -f "$exclude" ]; then
        grep -vxF "$line" "$exclude" >"$exclude.new" || true
        mv "$exclude.new" "$exclude"
    fi
    git status --short -- docs/runs | head -5
    echo "docs/runs is back"
    ;;
*)
    echo "usage: scripts/device-tree.sh shrink | restore" >&2
    exit 2
    ;;
esac
