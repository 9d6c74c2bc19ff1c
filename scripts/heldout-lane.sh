#!/usr/bin/env bash
# Runs one lane of the held-out plan (docs/evaluation.md §8) unattended, one sweep process
# at a time, so that a core never idles between a task's two passes: each task's pass 1,
# then seed-1 cells for any tuned baseline whose selected η is at its grid's edge, round
# after round (scripts/extend-grid.py, §2), then its pass-2 spec written by
# scripts/pass2-spec.py from `compare` (selection on validation; nothing is printed), then
# pass 2 on the same root. Every step resumes where it stopped, so after a kill the same
# command picks the lane up.
#
#   ETAPROBE_DATA=... scripts/heldout-lane.sh a   # H2 (both passes), then H3's seeds 1–2 (pass 1)
#   ETAPROBE_DATA=... scripts/heldout-lane.sh b   # (H1's both passes, done), H3's seeds 1–2 (both
#                                                 # passes), the authors' baselines on H1
#                                                 # and H2, the ablation
#
# H3 runs docs/sweeps/heldout-h3-resnet18w025-cifar10-b128-seeds12.toml, the task's spec
# with seeds 1–2 (the same cells): §8 runs its seeds 1–2 whole before the ablation and its
# seed 3 only if time remains, and the full spec's pass 1 would have run the 33 tuning-free
# seed-3 cells before any pass-2 cell (changed 2026-12-06, seed-1 cells running; no
# seed-2 or seed-3 cell had started). Seed 3 is left to a session that has the time: the
# full spec on the same root, then a pass 2 for seed 3.
#
# Lane b takes H3 after H1 so that the ablation, which §8 cuts before any claim cell, never runs before H3's
# seeds 1–2 (2026-12-06). H3's root takes one sweep at a time (`sweep.lock`): while lane a
# runs H3, lane b stops when it reaches H3, and says so; then stop lane a (its running cell
# resumes from its checkpoint) and start lane b again, alone, with JOBS=2.
#
# (Until 2026-12-05, 20:00 UTC lane a ran the ablation and lane b H3; swapped before either
# started, so that H3, whose seeds 1–2 §8 never cuts, starts some 7 hours earlier than
# the ablation, which §8 cuts first.)
#
# JOBS (default 1) cells run at once in each sweep: 1 while both lanes run on a 2-core
# machine; once one lane is done, stop the other (its cells resume from their checkpoints)
# and start it again with JOBS=2.
#
# LENET_BIN runs the LeNet roots (H1, H2, the ablation): engine da9a8db in what it
# computes (f4dd49e's binary: its direct 5×5 forwards, weight gradients and second input
# gradient and paired max pooling give the same bits, docs/evaluation.md §9); BIN runs
# H3 (engine 2ebfb45 in what it computes: f4dd49e adds only kernels for LeNet's second
# convolution, which ResNet-18 lacks); COMPARE_BIN makes the selections; AUTHORS_BIN runs
# the baselines after their authors on H1 and H2 (docs/evaluation.md §5.2's amendments of
# 2026-12-07: GeN's settings, DoG's average, D-Adaptation under a cosine), which the frozen
# binary lacks: a build from 1388397 or later. A machine
# without /work/bin: `cargo build --release` at f4dd49e or any commit whose src/ and
# shaders/ are the same, copied to that path (run.json names the binary each cell ran;
# cells run as 6e8797d ran 4d6b034's src/ and shaders/, a commit that was lost and made
# again, §9).
#
# Stopping the lane: SIGSTOP then SIGKILL the script and every process of its binary (a
# cell resumes from its last checkpoint, or starts again without one). Not SIGTERM or
# Ctrl-C to a cell: f4dd49e's sweep reads a cell stopped on request as failed, and the
# next sweep keeps it so (tried on a throwaway root, 2026-12-06; sweeps from b598d2c on
# read such a run as resumable, `sweep::manifest::on_disk`).
#
# Roots go under RUNS (default /work/runs), the lane's log to RUNS/heldout-lane-<lane>.log;
# a root missing there is first rebuilt from its records under docs/runs/
# (scripts/restore-root.sh).
set -euo pipefail
lane=${1:?lane a or b}
repo=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-/work/runs}
JOBS=${JOBS:-1}
LENET_BIN=${LENET_BIN:-/work/bin/etaprobe-v33-f4dd49e}
BIN=${BIN:-/work/bin/etaprobe-v33-f4dd49e}
# `compare` for the selections: 4d87150's or later (divergences at chance, ties to the
# smaller η0); it trains nothing, so any binary with it will do.
COMPARE_BIN=${COMPARE_BIN:-/work/bin/etaprobe-v33-f4dd49e}
AUTHORS_BIN=${AUTHORS_BIN:-/work/bin/etaprobe-v34-1388397}
log="$RUNS/heldout-lane-$lane.log"
mkdir -p "$RUNS"
cd "$repo"

say() { echo "[$(date -u +%FT%TZ)] $*" >> "$log"; }

# A root this machine lacks (a new session's machine keeps only the repository) is
# rebuilt from its committed records, docs/runs/<root's name>, when there are any.
restore() {
  local root=$1 records="docs/runs/$(basename "$1")"
  if [ ! -e "$root" ] && [ -f "$records/sweep.json" ]; then
    scripts/restore-root.sh "$records" "$root" >> "$log" 2>&1
    say "restored $root from $records"
  fi
}

# sweep BIN SPEC ROOT: one pass, one job. Exit 1 means some cells failed (a diverged run
# is a result the protocol counts, §2): kept, named in the log, and the lane goes on; any
# other failure stops the lane.
sweep() {
  if [ ! -x "$1" ]; then
    say "no binary $1: build one (see the top of this script) or set LENET_BIN, BIN, COMPARE_BIN and AUTHORS_BIN"
    exit 1
  fi
  restore "$3"
  say "sweep $2 --root $3 ($1)"
  local rc=0
  "$1" sweep "$2" --root "$3" --jobs "$JOBS" >> "$log" 2>&1 || rc=$?
  if [ "$rc" -eq 1 ]; then
    # Go on only if every failed cell diverged; anything else needs a look.
    if ! python3 - "$3/sweep.json" >> "$log" 2>&1 <<'PY'
import json, sys
cells = json.load(open(sys.argv[1]))["cells"]
bad = [c["dir"] for c in cells if c.get("status") == "failed"
       and not any(m in (c.get("error") or "") for m in ("training diverged at step", "η became"))]
for d in bad:
    print("failed, not a divergence:", d)
sys.exit(1 if bad else 0)
PY
    then
      say "sweep $2: a failed cell did not diverge: lane stopped"
      exit 1
    fi
    say "some cells of $2 diverged (kept, see $3/sweep.json); going on"
  elif [ "$rc" -ne 0 ]; then
    say "sweep $2 exited $rc: lane stopped"
    exit "$rc"
  fi
}

# both_passes BIN NAME [SPEC]: SPEC (default docs/sweeps/NAME.toml) on the root RUNS/NAME;
# its tuned baselines' grids extended at their edges (SPEC's name with -ext, rewritten at
# each round, §2); then SPEC's name with -pass2.
both_passes() {
  local bin=$1 name=$2 root="$RUNS/$2" spec=${3:-docs/sweeps/$2.toml}
  local ext="${spec%.toml}-ext.toml" pass2="${spec%.toml}-pass2.toml"
  local marker="# heldout-lane.sh: written after the grid-edge rounds (docs/evaluation.md §2)"
  if [ -f "$pass2" ] && ! grep -qxF "$marker" "$pass2"; then
    say "$pass2 was written without the grid-edge rounds: check that none of its pass-2 cells ran, delete it, and run the lane again"
    exit 1
  fi
  restore "$root"
  if [ ! -f "$pass2" ]; then
    [ -f "$ext" ] && spec=$ext
    sweep "$bin" "$spec" "$root"
    while :; do
      # The report goes to $root/compare/ unread; only errors to the log.
      if ! "$COMPARE_BIN" compare "$root" > /dev/null 2> "$root/compare.log"; then
        say "compare failed (see $root/compare.log): lane stopped"
        exit 1
      fi
      local rc=0
      scripts/extend-grid.py "$spec" "$root" > "$ext.tmp" 2>> "$log" || rc=$?
      if [ "$rc" -eq 3 ]; then
        rm -f "$ext.tmp"
        break
      elif [ "$rc" -ne 0 ]; then
        rm -f "$ext.tmp"
        say "extend-grid.py exited $rc: lane stopped"
        exit "$rc"
      fi
      mv "$ext.tmp" "$ext"
      spec=$ext
      say "wrote $ext (commit it)"
      sweep "$bin" "$spec" "$root"
    done
    if ! { echo "$marker"; scripts/pass2-spec.py "$spec" "$root"; } > "$pass2.tmp" 2>> "$log"; then
      rm -f "$pass2.tmp"
      say "pass2-spec.py failed: lane stopped"
      exit 1
    fi
    mv "$pass2.tmp" "$pass2"
    say "wrote $pass2 (commit it)"
  fi
  sweep "$bin" "$pass2" "$root"
}

# Every binary the lane will need, checked before it starts, so that a missing one stops
# it now rather than hours in (between H3 and the authors' baselines, say).
for bin in "$LENET_BIN" "$BIN" "$COMPARE_BIN" "$AUTHORS_BIN"; do
  if [ ! -x "$bin" ]; then
    say "no binary $bin: build one (see the top of this script) or set LENET_BIN, BIN, COMPARE_BIN and AUTHORS_BIN"
    exit 1
  fi
done

case $lane in
  a)
    both_passes "$LENET_BIN" heldout-h2-lenet-fmnist-b64
    sweep "$BIN" docs/sweeps/heldout-h3-resnet18w025-cifar10-b128-seeds12.toml "$RUNS/heldout-h3-resnet18w025-cifar10-b128"
    ;;
  b)
    # H1 ran both passes here (done 2026-12-06; records docs/runs/heldout-h1-lenet-cifar10-b128)
    # and is not swept again: the frozen binary's sweep would rewrite H1's sweep.json with
    # its own spec's cells only, dropping the authors' cells below from what compare reads.
    h3="$RUNS/heldout-h3-resnet18w025-cifar10-b128"
    if [ -f "$h3/sweep.lock" ] && kill -0 "$(cat "$h3/sweep.lock" 2>/dev/null)" 2>/dev/null; then
      say "H1 done; H3 is run by another lane (pid $(cat "$h3/sweep.lock")): stop that lane and start this one again with JOBS=2"
      exit 1
    fi
    both_passes "$BIN" heldout-h3-resnet18w025-cifar10-b128 \
      docs/sweeps/heldout-h3-resnet18w025-cifar10-b128-seeds12.toml
    # The tuning-free baselines after their authors, into H1's and H2's roots beside the
    # frozen run's cells (added 2026-12-07 while lane b ran H3, so from lane b's next start:
    # after H3's seeds 1–2, before the ablation, which §8 cuts before any claim cell).
    # Lane a must not run again after this, for the same reason as H1 above: the frozen
    # binary's sweep would rewrite H2's sweep.json without these cells (their folders
    # stay; this loop would list them again).
    for task in heldout-h1-lenet-cifar10-b128 heldout-h2-lenet-fmnist-b64; do
      sweep "$AUTHORS_BIN" "docs/sweeps/$task-authors.toml" "$RUNS/$task"
    done
    sweep "$LENET_BIN" docs/sweeps/ablation-h2.toml "$RUNS/ablation-h2"
    say "H3's seed 3 (§8: only if time remains) is not run by the lane: sweep docs/sweeps/heldout-h3-resnet18w025-cifar10-b128.toml on $h3, then a pass 2 for seed 3"
    ;;
  *)
    echo "usage: $0 a|b" >&2
    exit 2
    ;;
esac
say "lane $lane done"
