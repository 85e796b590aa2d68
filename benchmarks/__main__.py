"""``make bench``: run every benchmark on a fresh embedded stack and write the report."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from benchmarks import customer_view, foundation, profile, touchpoint, view_fold
from benchmarks.harness import Report, embedded_stack

RESULTS = Path("bench-results")


SUITES = {
    "foundation": foundation.run,
    "touchpoint": touchpoint.run,
    "profile": profile.run,
    "customer_view": customer_view.run,
    "view_fold": view_fold.run,
}


def main() -> None:
    """``python -m benchmarks [suite ...]``: all suites by default."""
    chosen = sys.argv[1:] or list(SUITES)
    report = Report()
    for name in chosen:
        # A fresh Postgres and broker per suite: no suite inherits another's backlog.
        with embedded_stack() as stack:
            asyncio.run(SUITES[name](stack, report))
    path = report.write(RESULTS)
    print()
    print(report.table())
    print(f"written: {path} and {RESULTS / 'results.txt'}")


if __name__ == "__main__":
    main()
