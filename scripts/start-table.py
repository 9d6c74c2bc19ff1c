#!/usr/bin/env python3
"""Issue 25's acceptance table from a compared sweep (standard library only).

    etaprobe compare ROOT --reference auto
    scripts/start-table.py ROOT TASK [RULE ...]        # default rules: auto secant

For each η0 of each RULE: final validation accuracy, mean ± 95% CI over seeds (from
ROOT/compare/TASK-grid.csv), its difference from the best constant η of `basic`'s grid
(selected on validation by `compare`), and, for η0 ≤ 1e-3, whether η stayed below η0/2 for
a whole epoch in any seed (read from each cell's steps.csv).
"""
import csv
import gzip
import sys
from pathlib import Path


def pct(x):
    return f"{100 * float(x):.2f}"


def epochs_below_half(run: Path, lr0: float) -> int:
    """Epochs in which every step's η was below η0/2."""
    highest = {}
    plain = run / "steps.csv"
    # Committed records (scripts/keep-records.sh) keep it gzipped.
    with (open(plain) if plain.exists() else gzip.open(run / "steps.csv.gz", "rt")) as f:
        for row in csv.DictReader(f):
            e = int(row["epoch"])
            highest[e] = max(highest.get(e, 0.0), float(row["lr"]))
    return sum(1 for h in highest.values() if h < lr0 / 2)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root, task = Path(sys.argv[1]), sys.argv[2]
    rules = sys.argv[3:] or ["auto", "secant"]
    with open(root / "compare" / f"{task}-grid.csv") as f:
        grid = list(csv.DictReader(f))
    best = next(r for r in grid if r["rule"] == "basic" and r["selected"] == "1")
    print(
        f"Best constant η (validation-selected from basic's grid): {best['lr']}, "
        f"{pct(best['final_val_acc'])} ± {pct(best['final_val_acc_ci'])}% "
        f"({best['seeds']} seeds)\n"
    )
    print("| rule | η0 | seeds | final val acc (%) | Δ vs best constant (points) | epochs with η < η0/2 throughout |")
    print("|---|---|---|---|---|---|")
    for r in sorted(grid, key=lambda r: (rules.index(r["rule"]) if r["rule"] in rules else 0, float(r["lr"]))):
        if r["rule"] not in rules:
            continue
        lr0 = float(r["lr"])
        delta = 100 * (float(r["final_val_acc"]) - float(best["final_val_acc"]))
        below = "—"
        if lr0 <= 1e-3:
            cells = sorted((root / task / r["rule"] / f"lr{r['lr']}").glob("seed*"))
            below = ", ".join(str(epochs_below_half(c, lr0)) for c in cells)
        print(
            f"| `{r['rule']}` | {r['lr']} | {r['seeds']} | {pct(r['final_val_acc'])} ± "
            f"{pct(r['final_val_acc_ci'])} | {delta:+.2f} | {below} |"
        )


if __name__ == "__main__":
    main()
