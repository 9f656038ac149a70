"""The cost of a press on PostgreSQL against SQLite: the answer benchmark's stream
(:func:`bench.answers.run_ours`: presses stored, answered and the message edited, through the
real bot and the stand-in) on an SQLite file and on a throwaway local PostgreSQL server
(``tests/postgres.py``; durability off, as in the tests, so this is the cost of the round trips
and the driver, not of the disk). Trials alternate; medians are reported.

``python -m bench.press_backends [--people 100] [--presses 1000] [--trials 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from bench.answers import run_ours
from tests.postgres import PostgresServer


async def measure(
    server: PostgresServer, people: int, presses: int, trials: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    for _ in range(trials):
        with tempfile.TemporaryDirectory() as tmp:
            times["sqlite"].append(await run_ours(Path(tmp), people, presses))
        with tempfile.TemporaryDirectory() as tmp:
            url = server.create_database("press")
            times["postgresql"].append(await run_ours(Path(tmp), people, presses, database_url=url))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--presses", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args(argv)
    server = PostgresServer.start()
    try:
        times = asyncio.run(measure(server, args.people, args.presses, args.trials))
    finally:
        server.stop()
    for backend, seconds in times.items():
        per_press = statistics.median(seconds) / args.presses * 1000
        print(
            f"{backend:<10} {per_press:6.2f} ms a press (median of {args.trials}: "
            + ", ".join(f"{s:.2f} s" for s in seconds)
            + f" for {args.presses} presses)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
