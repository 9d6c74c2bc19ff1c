#!/usr/bin/env bash
# Copies a sweep's finished records into the repository, without checkpoints or figures:
# per cell epochs.csv, run.json, config.toml and gzipped steps.csv / rule.csv; the sweep's
# manifest and its `compare` report.
#   scripts/keep-records.sh ROOT docs/runs/NAME
set -euo pipefail
root=${1:?sweep root}; dest=${2:?destination}
mkdir -p "$dest"
cp "$root/sweep.json" "$dest/"
if [ -d "$root/compare" ]; then mkdir -p "$dest/compare" && cp "$root"/compare/*.md "$root"/compare/*.csv "$root"/compare/*.png "$dest/compare/"; fi
find "$root" -name run.json -not -path "*/compare/*" | while read -r json; do
  cell=$(dirname "$json"); rel=${cell#"$root"/}
  grep -q '"finished"' "$json" || continue
  mkdir -p "$dest/$rel"
  for f in epochs.csv run.json config.toml; do if [ -f "$cell/$f" ]; then cp "$cell/$f" "$dest/$rel/"; fi; done
  for f in steps.csv rule.csv; do if [ -f "$cell/$f" ]; then gzip -9c "$cell/$f" > "$dest/$rel/$f.gz"; fi; done
done
echo "kept $(find "$dest" -name run.json | wc -l) cells in $dest"
