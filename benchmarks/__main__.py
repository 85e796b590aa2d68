"""``make bench``: run every benchmark on a fresh embedded stack and write the report."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from benchmarks import customer_view, foundation, profile, touchpoint, view_fold
from benchmarks.harness import STATEMENTS, Report, Stack, embedded_stack
from benchmarks.statements import heaviest, start_tracking

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
            statements = asyncio.run(_run(name, stack, report))
        if statements is not None:
            path = RESULTS / f"statements-{name}.txt"
            RESULTS.mkdir(exist_ok=True)
            path.write_text(statements)
            print(f"heaviest statements: {path}")
    path = report.write(RESULTS)
    print()
    print(report.table())
    print(f"written: {path} and {RESULTS / 'results.txt'}")


async def _run(name: str, stack: Stack, report: Report) -> str | None:
    """The suite, and (``BENCH_PG_STATEMENTS``) the statements it kept Postgres busy with."""
    if STATEMENTS:
        await start_tracking(stack.database_url)
    await SUITES[name](stack, report)
    return await heaviest(stack.database_url) if STATEMENTS else None


if __name__ == "__main__":
    main()
