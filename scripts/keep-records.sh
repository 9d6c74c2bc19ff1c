#!/usr/bin/env bash
# Copies a sweep's finished records into the repository, without checkpoints or figures:
# per cell epochs.csv, run.json, config.toml and gzipped steps.csv / rule.csv; the sweep's
# manifest and its `compare` report. Cells kept before are left as they are; the gzip
# files carry no name or time, so a cell kept again gives the same bytes.
#   scripts/keep-records.sh ROOT docs/runs/NAME
set -euo pipefail
root=${1:?sweep root}; dest=${2:?destination}
command -v python3 >/dev/null || { echo "$0 needs python3 (to read run.json)" >&2; exit 2; }
# Whether a run.json says its run ended, by its own keys (scripts/run-ended.py).
said_finished() { python3 "$(dirname "${BASH_SOURCE[0]}")/run-ended.py" "$1"; }
mkdir -p "$dest"
cp "$root/sweep.json" "$dest/"
if [ -d "$root/compare" ]; then mkdir -p "$dest/compare" && cp "$root"/compare/*.md "$root"/compare/*.csv "$root"/compare/*.png "$dest/compare/"; fi
find "$root" -name run.json -not -path "*/compare/*" | while read -r json; do
  cell=$(dirname "$json"); rel=${cell#"$root"/}
  said_finished "$json" || continue
  # A kept cell never changes: leave its files (and their bytes) as committed.
  if cmp -s "$json" "$dest/$rel/run.json"; then continue; fi
  mkdir -p "$dest/$rel"
  for f in epochs.csv run.json config.toml; do if [ -f "$cell/$f" ]; then cp "$cell/$f" "$dest/$rel/"; fi; done
  for f in steps.csv rule.csv; do if [ -f "$cell/$f" ]; then gzip -9nc "$cell/$f" > "$dest/$rel/$f.gz"; fi; done
done
echo "kept $(find "$dest" -name run.json | wc -l) cells in $dest"
