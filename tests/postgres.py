"""A throwaway PostgreSQL server for the tests, started and removed by the test session.

Debian's server binaries (``/usr/lib/postgresql/<version>/bin``; ``make test`` installs the
``postgresql`` package with apt-get when they are missing). ``initdb`` refuses to run as root, and
CI runs as root, so the server then runs as the ``postgres`` user. It listens on a free port of
127.0.0.1, with its socket in the same temporary directory as its data, and everything is removed
at the end. Durability is switched off (``fsync``, ``synchronous_commit``): a test server holds
nothing worth keeping. No Docker, no mocks.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SERVER_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (run ``make system`` to install them)."""


def server_bin_dir() -> Path:
    """The newest installed server's ``bin`` directory."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not found:
        raise PostgresUnavailable(
            "no PostgreSQL server in /usr/lib/postgresql: "
            "run `make system` (apt-get install postgresql)"
        )
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """One running server; :meth:`url` names a database on it for SQLAlchemy (asyncpg)."""

    root: Path
    port: int
    bin_dir: Path
    _as_user: list[str] = field(default_factory=list)
    _databases: int = 0

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = server_bin_dir()
        root = Path(tempfile.mkdtemp(prefix="checkin-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(root, entry.pw_uid, entry.pw_gid)
            as_user = ["runuser", "-u", SERVER_USER, "--"]
        server = cls(root=root, port=_free_port(), bin_dir=bin_dir, _as_user=as_user)
        try:
            server._run(
                "initdb",
                "-D",
                str(root / "data"),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
            server.resume()
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return server

    def resume(self) -> None:
        """Start the server (again, after :meth:`pause`), on the same port and data."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        data, log = str(self.root / "data"), str(self.root / "log")
        self._run("pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")

    def pause(self) -> None:
        """Stop the server as an operator's restart does (clients are disconnected)."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as_user, str(self.bin_dir / program), *args]
        result = subprocess.run(  # noqa: S603 - the server's own tools, fixed arguments
            command, capture_output=True, text=True, check=False, timeout=120
        )
        if result.returncode != 0:
            log = self.root / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed: {result.stderr.strip()}\n{tail}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "checkin", *, template: str | None = None) -> str:
        """A new database, empty or a copy of the database ``template`` (a cheap file copy,
        which is how the tests get an already migrated database); returns its URL."""
        self._databases += 1
        name = f"{prefix}_{self._databases}"
        copy = ["-T", template] if template else []
        self._run(
            "createdb", "-h", str(self.root), "-p", str(self.port), "-U", "postgres", *copy, name
        )
        return self.url(name)

    def add_role(self, name: str, password: str, *, owns: str | None = None) -> None:
        """A login role that must give ``password`` over TCP (the rest of the server trusts
        everyone), owning the database ``owns`` if given."""
        sql = f"CREATE ROLE {name} LOGIN PASSWORD '{password}'"
        if owns:
            sql += f"; ALTER DATABASE {owns} OWNER TO {name}"
        self._run("psql", "-h", str(self.root), "-p", str(self.port), "-U", "postgres", "-c", sql)
        hba = self.root / "data" / "pg_hba.conf"  # the first matching line wins
        hba.write_text(f"host all {name} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        self._run("pg_ctl", "-D", str(self.root / "data"), "reload")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
