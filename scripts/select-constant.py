#!/usr/bin/env python3
"""docs/evaluation.md §5.3: selects a baseline's constant from a swept grid (standard library).

    scripts/select-constant.py ROOT TASK

ROOT/TASK/LABEL/lrη0/seed1 are the cells of `etaprobe sweep` (docs/sweeps/design-d2-selection.toml).
Cells are grouped by rule label (e.g. `hypergradient-hd-beta=0.02`); a variant's score is the
mean over its η0 of the final validation accuracy (the last epoch's `val_acc`; a run that
recorded none, e.g. one stopped by a non-finite loss, counts 0). Per rule the best score is
selected; a tie with the default keeps the default (defaults: hd-beta 0.02, gen-damping 0.1).
"""
import csv
import sys
from collections import defaultdict
from pathlib import Path

DEFAULTS = {"hd-beta": "0.02", "gen-damping": "0.1"}


def final_val(cell: Path) -> float:
    try:
        rows = list(csv.DictReader(open(cell / "epochs.csv")))
    except FileNotFoundError:
        return 0.0
    vals = [r["val_acc"] for r in rows if r.get("val_acc")]
    return float(vals[-1]) if vals else 0.0


def main(root: Path, task: str):
    scores = defaultdict(dict)
    for cell in sorted((root / task).glob("*/lr*/seed1")):
        label = cell.parent.parent.name
        scores[label][cell.parent.name[2:]] = final_val(cell)
    by_rule = defaultdict(list)
    for label, per_lr in scores.items():
        rule, _, setting = label.partition("-")
        key, _, value = setting.rpartition("=")
        by_rule[rule].append((key, value, per_lr))
    for rule, variants in sorted(by_rule.items()):
        lrs = sorted({lr for _, _, p in variants for lr in p}, key=float)
        print(f"\n{rule}: mean final validation accuracy (%) over η0 ∈ {{{', '.join(lrs)}}}, seed 1\n")
        print("| " + " | ".join(["constant", *[f"η0 {lr}" for lr in lrs], "mean"]) + " |")
        print("|" + "---|" * (len(lrs) + 2))
        best = None
        for key, value, per_lr in sorted(variants, key=lambda v: float(v[1])):
            if len(per_lr) != len(lrs):
                sys.exit(f"{rule} {key}={value}: {len(per_lr)} of {len(lrs)} cells")
            mean = sum(per_lr.values()) / len(per_lr)
            cells = [f"{100 * per_lr[lr]:.2f}" for lr in lrs]
            print(f"| {key} = {value} | " + " | ".join(cells) + f" | {100 * mean:.2f} |")
            is_default = DEFAULTS.get(key) == value
            if best is None or mean > best[0] or (mean == best[0] and is_default):
                best = (mean, key, value)
        print(f"\nselected: {best[1]} = {best[2]} (mean {100 * best[0]:.2f}%)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), sys.argv[2])
