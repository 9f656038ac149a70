"""A press on PostgreSQL and on SQLite, each against the bare bots: the answer benchmark
(:func:`bench.answers.measure`: presses stored, answered and the message edited, through the
real bot and the stand-in, beside the like-for-like and one-word bare PTB bots in the same run)
with ours on an SQLite file, then on a throwaway local PostgreSQL server (``tests/postgres.py``;
durability off, as in the tests, so this is the cost of the round trips and the driver, not of
the disk). On SQLite a press runs on the event loop's own connection; on PostgreSQL as fixed
SQL text on asyncpg (``storage/press_pg.py``), and, side by side in the same trials, through
SQLAlchemy and asyncpg as before it. CPU time of the whole process; the PostgreSQL server's
own CPU is another process's and not counted. Medians of the trials.

``python -m bench.press_backends [--people 100] [--presses 1000] [--trials 3]``
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from bench.answers import SQLALCHEMY, TARGET, cpu, measure, ratios, table, verdict
from bench.common import machine, write_section
from tests.postgres import PostgresServer


async def measure_both(
    server: PostgresServer, people: int, presses: int, trials: int
) -> dict[str, dict[str, Any]]:
    return {
        "SQLite": await measure(people, presses, trials, profiled=False),
        "PostgreSQL": await measure(
            people,
            presses,
            trials,
            lambda: server.create_database("press"),
            profiled=False,
            through_sqlalchemy=True,
        ),
    }


def report(
    people: int, presses: int, trials: int, results: dict[str, dict[str, Any]], command: str
) -> str:
    parts = [
        f"Command: `{command}`  \nDate: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  \n"
        f"Machine: {machine()}\n\n"
        f"{presses} answer-button presses from {people} young people, queued at once; for each "
        f"backend {trials} trials of each bot, alternating (on PostgreSQL also ours with the "
        f"press through SQLAlchemy, as before the asyncpg press). CPU time of this process (the "
        f"PostgreSQL server's is not in it).\n\n"
        "| backend | ours, CPU ms a press | like-for-like ratio | one-word ratio | verdict |\n"
        "|---|---|---|---|---|"
    ]
    for backend, result in results.items():
        like, one_word = ratios(result)
        per_press = cpu(result, "ours") / presses * 1000
        judged = (
            f"{verdict(like)} (target at most {TARGET}x)"
            if backend == "SQLite"
            else "reported (the target is SQLite's)"
        )
        parts.append(f"| {backend} | {per_press:.2f} | {like:.2f}x | {one_word:.2f}x | {judged} |")
        if SQLALCHEMY in result["runs"]:
            like, one_word = ratios(result, SQLALCHEMY)
            per_press = cpu(result, SQLALCHEMY) / presses * 1000
            parts.append(
                f"| {backend}, the press through SQLAlchemy (before) | {per_press:.2f} | "
                f"{like:.2f}x | {one_word:.2f}x | reported |"
            )
    body = "\n".join(parts) + "\n"
    for backend, result in results.items():
        body += f"\n{backend}:\n\n{table(result, presses)}\n"
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--presses", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args(argv)
    server = PostgresServer.start()
    try:
        results = asyncio.run(measure_both(server, args.people, args.presses, args.trials))
    finally:
        server.stop()
    command = (
        f"python -m bench.press_backends --people {args.people} --presses {args.presses} "
        f"--trials {args.trials}"
    )
    body = report(args.people, args.presses, args.trials, results, command)
    write_section("A press on SQLite and on PostgreSQL", body)
    print(body)
    return 0 if ratios(results["SQLite"])[0] <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
