"""Fan-out: N due prompts sent by the real job against the local Bot API with Telegram's limit.

Reports the achieved rate as a share of ``CHECKIN_SEND_RATE`` (target at least 90%) and the count
of "too many requests" answers (target 0).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import machine, running_bot, write_section
from bot.schedule import tick


async def measure(people: int, send_rate: float, limit: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_bot(
            Path(tmp), send_limit=limit, send_rate=send_rate, seed_people=people, due_prompts=True
        ) as running:
            started = time.perf_counter()
            report = await tick(running.rt, running.app.bot)
            elapsed = time.perf_counter() - started
            return {
                "sent": report.sent,
                "seconds": elapsed,
                "rate": report.sent / elapsed,
                "share": report.sent / elapsed / send_rate,
                "too_many": running.api.too_many_requests,
                "violations": len(running.api.violations),
            }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0, help="CHECKIN_SEND_RATE")
    parser.add_argument("--limit", type=float, default=30.0, help="the Bot API's limit per second")
    args = parser.parse_args(argv)
    result = asyncio.run(measure(args.prompts, args.rate, args.limit))
    met = result["share"] >= 0.9 and result["too_many"] == 0 and result["sent"] == args.prompts
    body = (
        f"Command: `python -m bench.fanout --prompts {args.prompts} --rate {args.rate:g} "
        f"--limit {args.limit:g}`  \n"
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  \nMachine: {machine()}\n\n"
        f"| prompts sent | seconds | prompts/s | share of CHECKIN_SEND_RATE ({args.rate:g}/s) "
        f"| 429 answers | spec violations |\n|---|---|---|---|---|---|\n"
        f"| {result['sent']:.0f} | {result['seconds']:.1f} | {result['rate']:.2f} | "
        f"{result['share']:.1%} | {result['too_many']:.0f} | {result['violations']:.0f} |\n\n"
        f"Target: at least 90% of the configured rate, no 429: **{'met' if met else 'missed'}**.\n"
    )
    write_section("Fan-out of due prompts", body)
    print(body)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
