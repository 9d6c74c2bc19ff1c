#!/usr/bin/env python3
"""ρ's mean (clipped to ±1, as the rule averages it) at each η a secant/auto run used.

Reads a run's rule.csv (ρ per step) and steps.csv (η per step) and prints, per η held for
at least MIN_STEPS steps, the mean clipped ρ, its t statistic and the step count; then the
rule's decisions. Used for docs/design-notes.md §11 (why ρ cannot tell a moderately too
large η from a good one on LeNet).

    scripts/rho-by-lr.py RUN_DIR [RUN_DIR ...]
"""
import csv
import math
import sys
from pathlib import Path

MIN_STEPS = 50


def main(dirs):
    for d in map(Path, dirs):
        lr = {int(r["step"]): float(r["lr"]) for r in csv.DictReader(open(d / "steps.csv"))}
        by_lr, decisions = {}, []
        for r in csv.DictReader(open(d / "rule.csv")):
            if r["decision"] != "keep":
                decisions.append(f"{r['step']}:{r['decision']}")
            if r["rho"]:
                rho = max(-1.0, min(1.0, float(r["rho"])))
                by_lr.setdefault(lr.get(int(r["step"])), []).append(rho)
        print(d)
        for eta, v in sorted(by_lr.items()):
            if len(v) < MIN_STEPS:
                continue
            n = len(v)
            m = sum(v) / n
            sd = math.sqrt(sum((x - m) ** 2 for x in v) / (n - 1))
            print(f"  η {eta:<10.4g} mean ρ {m:+.3f}  t {m / (sd / math.sqrt(n)):+6.1f}  steps {n}")
        print("  decisions:", " ".join(decisions) or "none")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
