"""``make bench``: run every benchmark on a fresh embedded stack and write the report."""

from __future__ import annotations

import asyncio
from pathlib import Path

from benchmarks import foundation
from benchmarks.harness import Report, embedded_stack

RESULTS = Path("bench-results")


def main() -> None:
    report = Report()
    with embedded_stack() as stack:
        asyncio.run(foundation.run(stack, report))
    path = report.write(RESULTS)
    print()
    print(report.table())
    print(f"written: {path} and {RESULTS / 'results.txt'}")


if __name__ == "__main__":
    main()
