"""Several ``checkin-bot serve`` processes on one database behind the local Bot API's webhook
delivery (round-robin over them, as a load balancer would): the harness of the multi-process test
(tests/test_serve_processes.py) and the benchmark of updates handled per second.

Each process is ``python -m bot.cli serve`` exactly as an operator runs it, with settings in its
environment; the database is migrated once first (``checkin-bot migrate``) and the webhook set by
``checkin-bot webhook set``. The parent plays the young people through the stand-in.

Benchmark: ``python -m bench serve [--processes 1 2 4] [--people 40] [--presses 9]
[--backend postgresql|sqlite]``: young people, each with an open check-in, press answers as fast
as the bot answers them (each person waits for the answer to their press before the next, as a
person does); updates handled per second, with 1, 2 and 4 processes, into bench/results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import machine, write_section
from local_bot_api import LocalBotAPI
from local_bot_api.models import BotMessage
from storage import staff
from storage.db import Database
from storage.invites import new_token
from tests.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "telegram-bot-api" / "api.json"
TOKEN = "123456:SERVE-test-token"
BOT_USERNAME = "checkin_test_bot"
SECRET = "serve-test_secret-0123456789"
START_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """The running ``serve`` processes: their URLs, and each one's log."""

    api: LocalBotAPI
    database_url: str
    workdir: Path
    env: dict[str, str]
    ports: list[int] = field(default_factory=list)
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index]}/telegram"

    @property
    def urls(self) -> list[str]:
        return [self.url(i) for i in range(len(self.ports))]

    def log(self, index: int) -> str:
        path = self.workdir / f"serve-{index}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def cli(self, *args: str) -> str:
        """Run ``checkin-bot ARGS`` (as its own process) with the cluster's settings."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            *args,
            env=self.env,
            cwd=self.workdir,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        if process.returncode != 0:
            raise RuntimeError(f"checkin-bot {' '.join(args)} failed: {err.decode()[-2000:]}")
        return out.decode()

    async def start(self, index: int) -> None:
        """Start process ``index`` (again, after a kill, on the same port) and wait until its
        ``/healthz`` answers 200."""
        with (self.workdir / f"serve-{index}.log").open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "serve",
                "--port",
                str(self.ports[index]),
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=log,
            )
        if index < len(self.processes):
            self.processes[index] = process
        else:
            self.processes.append(process)
        await self._healthy(index)

    async def _healthy(self, index: int) -> None:
        health = self.url(index).removesuffix("/telegram") + "/healthz"
        deadline = time.monotonic() + START_SECONDS
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.processes[index].returncode is not None:
                    raise RuntimeError(f"serve {index} exited:\n{self.log(index)[-2000:]}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(health) as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)  # a process starting up: readiness, not test time
        raise RuntimeError(f"serve {index} did not become healthy:\n{self.log(index)[-2000:]}")

    def kill(self, index: int) -> None:
        """SIGKILL: the process dies at once, mid-update, answering nothing."""
        os.kill(self.processes[index].pid, signal.SIGKILL)

    async def stop(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                process.kill()
                await process.wait()


@contextlib.asynccontextmanager
async def cluster(
    api: LocalBotAPI, database_url: str, processes: int, workdir: Path, *, send_rate: int = 1000
) -> AsyncIterator[Cluster]:
    """``processes`` serve processes on ``database_url``, migrated once, the webhook set (by
    ``checkin-bot webhook set``) and balanced across them; stopped (SIGTERM) on leaving."""
    ports = [free_port() for _ in range(processes)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKIN_")}
    env.update(
        CHECKIN_TELEGRAM_TOKEN=api.token,
        CHECKIN_TELEGRAM_API_URL=api.base_url,
        CHECKIN_TELEGRAM_FILE_URL=api.base_file_url,
        CHECKIN_BOT_USERNAME=BOT_USERNAME,
        CHECKIN_DATABASE_URL=database_url,
        CHECKIN_WEBHOOK_SECRET=SECRET,
        CHECKIN_WEBHOOK_URL=f"http://127.0.0.1:{ports[0]}/telegram",
        CHECKIN_SEND_RATE=str(send_rate),
        CHECKIN_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    running = Cluster(api, database_url, workdir, env, ports)
    try:
        await running.cli("migrate")
        await asyncio.gather(*(running.start(i) for i in range(processes)))
        await running.cli("webhook", "set")
        api.webhook.balance(running.urls)
        yield running
    finally:
        await running.stop()


# ---- the benchmark ---------------------------------------------------------------------------


async def handled(api: LocalBotAPI, update: dict[str, Any], timeout: float = 60.0) -> None:  # noqa: ASYNC109 - a deadline
    """Wait until the bot answered the webhook delivery of ``update`` 2xx: handled completely."""
    update_id = update["update_id"]
    await api.wait_until(
        lambda: all(u["update_id"] != update_id for u in api.state.pending), timeout=timeout
    )


def showing(api: LocalBotAPI, person: int) -> BotMessage:
    """The newest message with buttons in ``person``'s chat."""
    return [m for m in api.messages(person) if api.buttons(m)][-1]


def button(api: LocalBotAPI, message: BotMessage, label: str) -> str:
    """The data of the first button whose label starts with, or holds, ``label``."""
    found = [d for text, d in api.buttons(message) if text.startswith(label) or label in text]
    if not found or found[0] is None:
        raise LookupError(f"no button {label!r} on {api.buttons(message)}")
    return found[0]


async def enrol(api: LocalBotAPI, key_worker: int, people: list[int], database_url: str) -> None:
    """A key worker (added as ``checkin-bot staff add`` adds one) invites ``people``; each
    joins, picks English, agrees, and sees the first statement."""
    await handled(api, api.send_text(key_worker, f"/start {await _staff_link(database_url)}"))
    for person in people:
        await handled(api, api.send_text(key_worker, f"/invite P{person}"))
        invite = api.messages(key_worker)[-1]
        token = (invite.content or "").rsplit("start=", 1)[1].split()[0]
        await handled(api, api.send_text(person, f"/start {token}"))
        picker = showing(api, person)
        english = button(api, picker, "English")
        await handled(api, api.press_button(person, picker.message_id, english))
        welcome = showing(api, person)
        await handled(api, api.press_button(person, welcome.message_id, button(api, welcome, "✅")))
        if not (showing(api, person).content or "").startswith("Statement 1 of"):
            raise RuntimeError(f"young person {person} did not get the first statement")


async def _staff_link(database_url: str) -> str:
    """A key worker's invite token, made as ``checkin-bot staff add`` makes it."""
    db = Database(database_url)
    now = datetime.now(UTC)
    token = new_token()
    try:
        async with db.transaction() as conn:
            await staff.add_with_invite(
                conn,
                name="Sam",
                role="key_worker",
                team="North",
                created_by=None,
                token=token,
                now=now,
                expires_at=now.replace(year=now.year + 1),
            )
    finally:
        await db.close()
    return token


# ---- the benchmark ---------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    backend: str
    processes: int
    people: int
    presses: int
    seconds: float
    latencies: list[float]
    bot_cpu: float
    parent_cpu: float
    load: float

    @property
    def per_second(self) -> float:
        return self.presses / self.seconds


async def _answer_all(api: LocalBotAPI, person: int, statements: int, out: list[float]) -> None:
    """``person`` answers ``statements`` statements, each once the previous was handled."""
    for _ in range(statements):
        message = showing(api, person)
        began = time.perf_counter()
        await handled(api, api.press_button(person, message.message_id, button(api, message, "🙂")))
        out.append(time.perf_counter() - began)


async def measure(backend: str, url: str, processes: int, people: int, statements: int) -> Run:
    with tempfile.TemporaryDirectory(prefix="checkin-serve-") as tmp:
        async with (
            LocalBotAPI(None, token=TOKEN, bot_username=BOT_USERNAME) as api,
            cluster(api, url, processes, Path(tmp)) as running,
        ):
            chats = list(range(10_001, 10_001 + people))
            await enrol(api, 900_001, chats, url)
            latencies: list[float] = []
            pids = [p.pid for p in running.processes]
            cpu_before = sum(cpu_seconds(pid) for pid in pids)
            parent_before = time.process_time()
            began = time.perf_counter()
            await asyncio.gather(*(_answer_all(api, c, statements, latencies) for c in chats))
            seconds = time.perf_counter() - began
            bot_cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
            parent_cpu = time.process_time() - parent_before
            load = os.getloadavg()[0]
    return Run(
        backend,
        processes,
        people,
        len(latencies),
        seconds,
        latencies,
        bot_cpu,
        parent_cpu,
        load,
    )


async def run_all(
    backends: list[str], counts: list[int], people: int, statements: int
) -> list[Run]:
    runs: list[Run] = []
    server = PostgresServer.start() if "postgresql" in backends else None
    try:
        for backend in backends:
            for count in counts:
                if backend == "postgresql":
                    assert server is not None
                    url = server.create_database(f"bench{count}")
                    workdir = None
                else:
                    workdir = tempfile.mkdtemp(prefix="checkin-serve-db-")
                    url = f"sqlite+aiosqlite:///{workdir}/bench.db"
                try:
                    run = await measure(backend, url, count, people, statements)
                finally:
                    if workdir is not None:
                        shutil.rmtree(workdir, ignore_errors=True)
                print(
                    f"{backend}: {count} process(es): {run.per_second:.0f} updates/s "
                    f"({run.presses} presses in {run.seconds:.1f} s)",
                    flush=True,
                )
                runs.append(run)
    finally:
        if server is not None:
            server.stop()
    return runs


def report(runs: list[Run], command: str) -> str:
    rows = []
    for run in runs:
        ordered = sorted(run.latencies)
        p50 = statistics.median(ordered) * 1000
        p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000
        rows.append(
            f"| {run.backend} | {run.processes} | {run.presses} | {run.seconds:.1f} | "
            f"**{run.per_second:.0f}** | {p50:.0f} | {p95:.0f} | "
            f"{run.bot_cpu / run.presses * 1000:.1f} | {run.parent_cpu / run.presses * 1000:.1f} | "
            f"{run.load:.1f} |"
        )
    cores = os.cpu_count()
    return (
        f"Command: `{command}`  \nDate: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  \n"  # noqa: S608 - Markdown, not SQL
        f"Machine: {machine()}\n\n"
        f"N `checkin-bot serve` processes (real processes, `python -m bot.cli serve`) on one "
        f"database, behind the local Bot API's webhook delivery (round-robin over them, at most "
        f"40 deliveries in flight, updates of one chat one at a time). {runs[0].people} young "
        f"people, each with an open check-in, answer statements as fast as the bot answers: "
        f"each presses, waits until the update is handled (answered 200), then presses the "
        f"next. A press is: the stored answer (compare-and-set), answerCallbackQuery and "
        f"editMessageText. `CHECKIN_SEND_RATE` is set to 1000 so the rate limiter does not cap "
        f"the figure (Telegram's own limit of about 30 messages a second is per bot, not per "
        f"process). No Bot API spec check in the stand-in here (it costs the parent CPU).\n\n"
        f"| database | processes | presses | seconds | updates/s | median ms | p95 ms | "
        f"bot CPU ms/update | stand-in CPU ms/update | load average |\n"
        f"|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"{scaling(runs)}\n\n"
        f"**What {cores} cores allow.** Everything runs on this machine: the stand-in (one "
        f"Python process, which also plays the young people), the N bot processes and, for "
        f"PostgreSQL, the server. Bot CPU per update times updates per second is how many cores "
        f"the bots use; once bots, stand-in and database together use every core, more "
        f"processes cannot help and only add switching. This machine is shared with other work "
        f"(the last column is the 1-minute load average at the end of each run; above {cores} "
        f"something was always waiting for a core), so the figures vary from run to run and "
        f"measure what two busy cores allow, not what the design allows. On real hardware the "
        f"stand-in's share is Telegram's, each process gets its own core, and the database "
        f"becomes the limit: SQLite takes one write lock for every write, PostgreSQL does not.\n"
    )


def scaling(runs: list[Run]) -> str:
    """The speed-up over one process, per backend, in words."""
    parts = []
    for backend in dict.fromkeys(run.backend for run in runs):
        mine = [run for run in runs if run.backend == backend]
        one = next((run for run in mine if run.processes == 1), None)
        if one is None:
            continue
        ups = ", ".join(
            f"{run.processes} processes {run.per_second / one.per_second:.2f}x"
            for run in mine
            if run.processes != 1
        )
        parts.append(f"{backend}: 1 process {one.per_second:.0f} updates/s; {ups}")
    return "Speed-up over one process: " + "; ".join(parts) + "."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--statements", type=int, default=9)
    parser.add_argument(
        "--backend", nargs="+", choices=["postgresql", "sqlite"], default=["postgresql", "sqlite"]
    )
    args = parser.parse_args(argv)
    runs = asyncio.run(run_all(args.backend, args.processes, args.people, args.statements))
    command = (
        f"python -m bench.serve --processes {' '.join(map(str, args.processes))} "
        f"--people {args.people} --statements {args.statements} --backend {' '.join(args.backend)}"
    )
    body = report(runs, command)
    write_section("Updates per second with 1, 2 and 4 serve processes", body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
