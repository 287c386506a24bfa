"""A throwaway PostgreSQL server on 127.0.0.1 for the SQL-source tests.

Debian's server binaries (``/usr/lib/postgresql/<version>/bin``) are used, installed with apt-get
when absent. The cluster lives in a temporary folder with its socket folder beside it, listens on
a free port of 127.0.0.1 only, requires a password (scram-sha-256), and runs as an ordinary OS
user: PostgreSQL refuses to run as root, so under root the ``postgres`` user (or a ``cdi_pg`` user
created for the purpose) owns it. If the server cannot be started, the tests fail: a skipped
database test would prove nothing.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "cdi_test"
PASSWORD = "cdi-test-password"
DATABASE = "cdi_source"
START_TIMEOUT_SECONDS = 60
INSTALL_TIMEOUT_SECONDS = 600


@dataclass
class PostgresServer:
    bin_dir: Path
    root: Path
    port: int
    os_user: str | None  # None: this process's own user

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def url(self, database: str = DATABASE, password: str = PASSWORD) -> str:
        return f"postgresql+psycopg://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    def command(self, *args: str) -> list[str]:
        if self.os_user is None:
            return list(args)
        return ["runuser", "-u", self.os_user, "--", *args]

    def run(self, *args: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
        completed = subprocess.run(self.command(*args), capture_output=True, text=True, timeout=timeout)
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({completed.returncode}): {completed.stderr or completed.stdout}")

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(self.command(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"),
                           capture_output=True, timeout=START_TIMEOUT_SECONDS)
        shutil.rmtree(self.root, ignore_errors=True)


def _bin_dir() -> Path:
    """Newest installed server binaries; installs Debian's postgresql package if there are none."""
    def found() -> list[str]:
        return sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))

    if not found():
        if os.geteuid() != 0:
            raise RuntimeError("PostgreSQL server binaries are missing and only root can apt-get install postgresql")
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]):
            subprocess.run(command, check=True, capture_output=True, env=environment, timeout=INSTALL_TIMEOUT_SECONDS)
    if not found():
        raise RuntimeError("apt-get install postgresql left no /usr/lib/postgresql/*/bin/initdb")
    return Path(found()[-1]).parent


def _os_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "cdi_pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "cdi_pg"], check=True, capture_output=True)
    return "cdi_pg"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server() -> PostgresServer:
    bin_dir, os_user = _bin_dir(), _os_user()
    root = Path(tempfile.mkdtemp(prefix="cdi-pg-"))
    server = PostgresServer(bin_dir=bin_dir, root=root, port=free_port(), os_user=os_user)
    try:
        server.socket_dir.mkdir()
        password_file = root / "password"
        password_file.write_text(PASSWORD + "\n")
        if os_user is not None:
            account = pwd.getpwnam(os_user)
            for path in (root, server.socket_dir, password_file):
                os.chown(path, account.pw_uid, account.pw_gid)
        server.run(str(bin_dir / "initdb"), "-D", str(server.data_dir), "-U", SUPERUSER, "--auth=scram-sha-256",
                   f"--pwfile={password_file}", "-E", "UTF8", "--locale=C")
        options = f"-p {server.port} -k {server.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        server.run(str(bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-o", options, "-l", str(root / "server.log"),
                   "-w", "-t", str(START_TIMEOUT_SECONDS), "start")
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=server.port, user=SUPERUSER, password=PASSWORD,
                                     dbname="postgres", autocommit=True) as connection:
                    connection.execute(f"create database {DATABASE}")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    except BaseException as error:
        log_file = root / "server.log"
        detail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
        server.stop()
        raise RuntimeError(f"could not start PostgreSQL from {bin_dir}: see the server log:\n{detail}") from error
    return server
