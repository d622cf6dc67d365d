"""A throwaway PostgreSQL cluster for tests and benchmarks: ``initdb`` and ``pg_ctl`` from
Debian's ``postgresql`` package, listening only on a unix socket in a temporary folder.

PostgreSQL refuses to run as root; as root (CI) the cluster runs as the ``postgres``
system user that Debian's package creates, and the folder is handed to it. The database
superuser is ``ledger`` with trust authentication on the socket (nothing listens on a
network port). ``Cluster.remove`` stops the server and deletes everything.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

SUPERUSER = "ledger"


def bin_dir() -> Path | None:
    """The newest PostgreSQL server binaries installed, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


class Cluster:
    def __init__(self, root: Path | None = None, *, bindir: Path | None = None) -> None:
        self.bindir = bindir or bin_dir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL is not installed: run scripts/setup --system")
        self.root = root or Path(tempfile.mkdtemp(prefix="provenance-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.log = self.root / "server.log"
        self._as: list[str] = []
        if os.getuid() == 0:
            user = pwd.getpwnam("postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
            self.root.chmod(0o755)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._pg(["mkdir", "-p", str(self.socket_dir)])

    def _pg(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self._as + args, check=check, capture_output=True, text=True)

    def tool(self, name: str) -> str:
        assert self.bindir is not None
        return str(self.bindir / name)

    def init(self, **settings: str) -> Cluster:
        self._pg(
            [
                self.tool("initdb"),
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]  # fmt: skip
        )
        conf = {
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "max_connections": "200",
            "shared_buffers": "64MB",
            "fsync": "on",
            "synchronous_commit": "on",
            **settings,
        }
        with open(self.data / "postgresql.conf", "a") as f:
            f.writelines(f"{k} = {v}\n" for k, v in conf.items())
        return self

    def standby(self) -> Cluster:
        """A streaming replica of this (running) cluster: ``pg_basebackup -R`` into a new
        folder, with its own socket folder; started, read-only, replaying as it streams."""
        replica = Cluster(bindir=self.bindir)
        replica._pg(
            [
                self.tool("pg_basebackup"),
                "-D",
                str(replica.data),
                "-h",
                str(self.socket_dir),
                "-U",
                SUPERUSER,
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ]  # fmt: skip
        )
        with open(replica.data / "postgresql.conf", "a") as f:
            f.write(f"unix_socket_directories = '{replica.socket_dir}'\nhot_standby = on\n")
        return replica.start()

    def start(self) -> Cluster:
        self._pg([self.tool("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"])
        return self

    def stop(self, mode: str = "fast") -> None:
        self._pg([self.tool("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"], check=False)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{dbname}?host={self.socket_dir}"

    def admin(self, sql: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.encode())

    def create_database(self, name: str, template: str = "template0") -> str:
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
