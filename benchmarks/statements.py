"""The statements Postgres spent its time on during a suite (``BENCH_PG_STATEMENTS=1``)."""

from __future__ import annotations

import asyncpg

_TOP = """
SELECT calls, total_exec_time, rows, regexp_replace(query, '\\s+', ' ', 'g') AS query
FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT $1
"""


async def start_tracking(database_url: str) -> None:
    """Create the extension (the server preloads it) and forget what setup ran."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


async def heaviest(database_url: str, top: int = 40) -> str:
    """The ``top`` statements by total execution time, as a table."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(_TOP, top)
        total = await conn.fetchval("SELECT sum(total_exec_time) FROM pg_stat_statements")
    finally:
        await conn.close()
    lines = [f"total execution time: {total or 0:,.0f} ms (waits for locks included)",
             f"{'calls':>9} {'total ms':>10} {'ms/call':>8} {'rows':>9}  statement"]
    lines += [f"{r['calls']:>9,} {r['total_exec_time']:>10,.1f} "
              f"{r['total_exec_time'] / r['calls']:>8.3f} {r['rows']:>9,}  {r['query'][:160]}"
              for r in rows]
    return "\n".join(lines) + "\n"
