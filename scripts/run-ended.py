#!/usr/bin/env python3
"""Exits 0 when RUN_JSON says its run ended (finished, diverged or failed), 1 when it does
not (still going, or stopped on request to be resumed) or cannot be read. Only its own
top-level keys count, not those of the earlier sittings a resumed run's run.json keeps.

    scripts/run-ended.py RUN_DIR/run.json
"""
import json
import sys

try:
    info = json.load(open(sys.argv[1]))
    totals = info.get("totals") or {}
    stopped = totals.get("interrupted") is True or str(totals.get("stopped", "")).startswith(
        "stopped on request after step ")
    sys.exit(0 if info.get("finished") and not stopped else 1)
except (OSError, ValueError, AttributeError):
    sys.exit(1)
