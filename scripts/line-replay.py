#!/usr/bin/env python3
"""Replays `auto`'s line-rise test on recorded runs at another probe period (standard
library only): which runs would have halved η on a line rise, and at which step, had the
back probe come every K steps instead of the period they ran with.

    scripts/line-replay.py ROOT [ROOT ...]      # every */auto/lr*/seed* under each ROOT

A run's probes are the rows of its rule.csv with a probe_start; a probe at step t adds the
paired rise loss(t) − probe_start(t) (steps.csv's loss). As in `Auto::observe`, the test
(at least 8 rises, t-statistic above 3) runs at every step that no other test decided,
and any decision empties the list. The replay follows the recorded trajectory, so it is
exact up to the first step where the other period would decide differently: at the period
a run used, it reproduces the run's recorded line rises (docs/design-notes.md §12).
"""
import csv
import gzip
import math
import sys
from pathlib import Path

MIN_PROBES = 8
EVIDENCE_T = 3.0


def rows(path: Path):
    # Committed records (scripts/keep-records.sh) keep the CSVs gzipped.
    if path.exists():
        return csv.DictReader(open(path))
    return csv.DictReader(gzip.open(str(path) + ".gz", "rt"))


def t_statistic(x):
    n = len(x)
    m = sum(x) / n
    var = sum((a - m) ** 2 for a in x) / (n - 1)
    if var == 0:
        return math.copysign(math.inf, m) if m else 0.0
    return m / math.sqrt(var / n)


def replay(run: Path, every: int):
    loss = {int(r["step"]): float(r["loss"]) for r in rows(run / "steps.csv")}
    rises, fires = [], []
    for r in rows(run / "rule.csv"):
        step, decision = int(r["step"]), r["decision"]
        if r["probe_start"] and step % every == 0 and step in loss:
            rises.append(loss[step] - float(r["probe_start"]))
        if decision in ("", "keep", "line-rise"):
            if len(rises) >= MIN_PROBES and t_statistic(rises) > EVIDENCE_T:
                fires.append(step)
                rises = []
        else:
            rises = []
    return fires


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    periods = (2, 4)
    counts = dict.fromkeys(periods, 0)
    runs = 0
    for root in sys.argv[1:]:
        for run in sorted(Path(root).glob("**/auto/lr*/seed*")):
            runs += 1
            for every in periods:
                fires = replay(run, every)
                if fires:
                    counts[every] += 1
                    print(f"{run}: every {every} steps, line rise at step {fires[0]}")
    for every in periods:
        print(f"every {every} steps: {counts[every]} of {runs} runs with a line rise")


if __name__ == "__main__":
    main()
