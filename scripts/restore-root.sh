#!/usr/bin/env bash
# Rebuilds a sweep root from the records scripts/keep-records.sh kept, for a machine that
# lost it (a new session's machine keeps only the repository): the finished and diverged
# cells come back as `sweep` wrote them, so `sweep` skips them and runs the rest. A cell
# interrupted on the old machine has no record and runs again from its first step, which
# gives the same run. Refuses an existing ROOT.
#   scripts/restore-root.sh docs/runs/NAME ROOT
set -euo pipefail
records=${1:?records (docs/runs/NAME)}; root=${2:?sweep root to create}
if [ ! -f "$records/sweep.json" ]; then
  echo "restore-root.sh: $records has no sweep.json: not a kept sweep" >&2
  exit 2
fi
if [ -e "$root" ]; then
  echo "restore-root.sh: $root exists; nothing done" >&2
  exit 2
fi
tmp="$root.restoring"
rm -rf "$tmp"
mkdir -p "$tmp"
# The manifest and the cells; a report and the README are drawn again by `compare`.
cp "$records/sweep.json" "$tmp/"
find "$records" -name run.json -not -path "*/compare/*" | while read -r json; do
  cell=$(dirname "$json"); rel=${cell#"$records"/}
  mkdir -p "$tmp/$rel"
  cp "$cell"/* "$tmp/$rel/"
done
find "$tmp" -name "*.csv.gz" -exec gunzip {} +
mv "$tmp" "$root"
echo "restored $(find "$root" -name run.json | wc -l) cells into $root"
