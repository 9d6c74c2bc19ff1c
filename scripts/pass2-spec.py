#!/usr/bin/env python3
"""Writes a task's pass-2 sweep spec from its pass-1 spec and pass-1 `compare` (docs/evaluation.md §2, §5).

    etaprobe compare ROOT                              # pass 1's grid CSV
    scripts/pass2-spec.py PASS1.toml ROOT > PASS2.toml
    etaprobe sweep PASS2.toml --root ROOT               # pass 1's cells are kept, skipped

Pass 1 ran each val-tuned baseline (a rule with `seeds = [1]` and no `grid`) over its η
grid on seed 1; pass 2 runs the η that `compare` selected on validation on the other seeds,
with the same label and options. PASS2.toml is pass 1's spec with these rules appended, so
that it runs on the same ROOT (pass 1's cells finished, skipped) and `compare` sees all seeds. A
rule with a `grid` on seed 1 (first-order's α selection) gets the grid value with the best
final validation accuracy (seed 1), run from every η0 of ALL_LRS on every seed as label
"<name>-tuned". The test set chooses nothing.
"""
import csv
import sys
import tomllib
from pathlib import Path

from spec_toml import toml_value

ALL_LRS = [1e-4, 1e-3, 1e-2, 1e-1, 1, 10]


def main(spec_path: Path, root: Path):
    spec = tomllib.loads(spec_path.read_text())
    (task,) = spec["task"]
    rows = list(csv.DictReader(open(root / "compare" / f"{task['name']}-grid.csv")))
    seeds = spec["seeds"]
    out = [
        spec_path.read_text().rstrip("\n"),
        "",
        f"# ---- Pass 2, appended by scripts/pass2-spec.py from pass 1's `compare` of {root.name}",
        "# (validation-selected; the test set chose nothing).",
    ]
    seen = set()
    for rule in spec["rule"]:
        if rule.get("seeds") != [1]:
            continue
        name = rule["name"]
        label = rule.get("label", name)
        # A grid extended at its edge (scripts/extend-grid.py) repeats the label: one
        # pass-2 entry per baseline, at the η selected over the whole grid.
        if label in seen:
            continue
        seen.add(label)
        entry = {"name": name}
        if "grid" in rule:
            ((key, _),) = rule["grid"].items()
            variants = [r for r in rows if r["rule"].startswith(f"{label}-{key}=")]
            # A variant without a validation score (its seed-1 run diverged, and compare
            # before 2026-12-05 left it out) never wins, as at chance (docs/evaluation.md §2).
            variants = [r for r in variants if r["final_val_acc"]]
            if not variants:
                sys.exit(f"{label}: no {key} value has a validation score")
            best = max(variants, key=lambda r: float(r["final_val_acc"]))
            value = best["rule"].split("=", 1)[1]
            entry["label"] = f"{name}-tuned"
            entry["lr"] = ALL_LRS
            entry["options"] = {**rule.get("options", {}), key: float(value)}
            note = f"{key} = {value} selected on seed 1 ({100 * float(best['final_val_acc']):.2f}%)"
        else:
            chosen = [r for r in rows if r["rule"] == label and r["selected"] == "1"]
            if len(chosen) != 1:
                sys.exit(f"{label}: {len(chosen)} selected rows in the grid CSV")
            entry["label"] = label
            entry["lr"] = [float(chosen[0]["lr"])]
            entry["seeds"] = [s for s in seeds if s != 1]
            if "options" in rule:
                entry["options"] = rule["options"]
            note = f"η0 = {chosen[0]['lr']} selected on seed 1 ({100 * float(chosen[0]['final_val_acc']):.2f}%)"
        out += ["", f"# {label}: {note}", "[[rule]]"]
        out += [f"{k} = {toml_value(v)}" for k, v in entry.items()]
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
