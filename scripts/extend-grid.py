#!/usr/bin/env python3
"""Extends a val-tuned baseline's η grid at its edge (docs/evaluation.md §2, "Grid edges").

    etaprobe compare ROOT                               # the grid CSV of what ran so far
    scripts/extend-grid.py SPEC.toml ROOT > NEXT.toml   # exit 0: NEXT adds seed-1 cells
    etaprobe sweep NEXT.toml --root ROOT                 # then compare and extend again

A val-tuned baseline is a rule run on seed 1 only (`seeds = [1]`) over more than one η and
without a `grid` of options (first-order's α selection has one and is not extended). When
`compare` selected the smallest or the largest η of such a rule's grid, NEXT.toml is SPEC
with one more seed-1 cell for it: the next value of the 1–3 pattern in that direction
(3e-1 → 1, 1e-3 → 3e-4). Repeated until every selection is interior: a value that diverges
scores chance (§2), so the one before it becomes interior. Exit 3, printing nothing, when
no grid needs extending. Nothing is printed about any result: only the values added go to
stderr, for the lane's log.
"""
import csv
import math
import sys
import tomllib
from pathlib import Path

from spec_toml import toml_value

# Beyond these a grid is not extended (a rate this far out is a broken setup, not a tuning
# question); the edge is then reported as it is.
LOWEST, HIGHEST = 1e-6, 1e2


def one_three(x):
    """x as (mantissa 1 or 3, decade); None off the pattern."""
    k = math.floor(math.log10(x) + 1e-9)
    m = x / 10.0**k
    for mantissa in (1, 3):
        if abs(m - mantissa) < 1e-6 * mantissa:
            return mantissa, k
    return None


def neighbour(x, up):
    """The next value of the 1–3 pattern above (up) or below x."""
    pattern = one_three(x)
    if pattern is None:
        sys.exit(f"{x} is not on the 1–3 pattern: extend this grid by hand")
    m, k = pattern
    if up:
        m, k = (3, k) if m == 1 else (1, k + 1)
    else:
        m, k = (1, k) if m == 3 else (3, k - 1)
    return float(f"{m}e{k}")


def tuned_baselines(spec):
    """Label → the rule's first spec entry, for every val-tuned baseline."""
    out = {}
    for rule in spec["rule"]:
        label = rule.get("label", rule["name"])
        if label in out:
            continue
        if rule.get("seeds") == [1] and "grid" not in rule and len(rule["lr"]) > 1:
            out[label] = rule
    return out


def main(spec_path: Path, root: Path):
    spec = tomllib.loads(spec_path.read_text())
    (task,) = spec["task"]
    rows = list(csv.DictReader(open(root / "compare" / f"{task['name']}-grid.csv")))
    added = []
    for label, rule in tuned_baselines(spec).items():
        # The grid is every η the spec ran for this label (a cell that failed included, so
        # that a value is never added twice), the selection compare's.
        grid = sorted({float(x) for r in spec["rule"] if r.get("label", r["name"]) == label
                       and r.get("seeds") == [1] for x in r["lr"]})
        chosen = [float(r["lr"]) for r in rows if r["rule"] == label and r["selected"] == "1"]
        if len(chosen) != 1:
            sys.exit(f"{label}: {len(chosen)} selected rows in the grid CSV")
        (lr,) = chosen
        if len(grid) < 2 or grid[0] < lr < grid[-1]:
            continue
        new = neighbour(lr, up=lr == grid[-1])
        if not LOWEST <= new <= HIGHEST:
            print(f"{label}: η {lr} is at the grid's edge, and {new} is past the limits", file=sys.stderr)
            continue
        entry = {"name": rule["name"]}
        if "label" in rule:
            entry["label"] = rule["label"]
        entry["lr"] = [new]
        entry["seeds"] = [1]
        if "options" in rule:
            entry["options"] = rule["options"]
        added.append((label, lr, entry))
    if not added:
        sys.exit(3)
    out = [spec_path.read_text().rstrip("\n")]
    for label, lr, entry in added:
        print(f"{label}: selected η {lr} is at its grid's edge: adds {entry['lr'][0]} on seed 1", file=sys.stderr)
        out += ["", f"# {label}: grid extended (docs/evaluation.md §2) by scripts/extend-grid.py", "[[rule]]"]
        out += [f"{k} = {toml_value(v)}" for k, v in entry.items()]
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
