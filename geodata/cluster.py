"""The embedded PostgreSQL/PostGIS cluster under var/: create, start, stop and inspect it.

initdb and pg_ctl refuse to run as root. When run as root the cluster belongs to Debian's
``postgres`` user and every server command runs through ``runuser -u postgres --``. If that user
cannot reach ``var/`` (e.g. a repository under a 0700 home directory), the cluster lives instead in
``/var/tmp/landmarket-<hash of the var path>/``; ``landmarket db status`` shows where.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from geodata.settings import Settings, get_settings
from landmarket.errors import LandmarketError

PG_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"  # Debian's account that owns clusters when we run as root
_CONF_MARK = "# --- landmarket embedded cluster ---"


class ClusterError(LandmarketError):
    """The embedded cluster or a database server cannot be prepared."""

    status = 503
    title = "数据库不可用 / Database unavailable"


def find_pg_bin() -> Path:
    """Newest /usr/lib/postgresql/*/bin that has initdb."""
    candidates = sorted(
        (p for p in PG_ROOT.glob("*/bin") if (p / "initdb").is_file()),
        key=lambda p: _version_key(p.parent.name),
    )
    if not candidates:
        raise ClusterError(
            "未找到 PostgreSQL 服务器程序（initdb），请先运行 `make sysdeps` / "
            f"PostgreSQL server binaries (initdb) not found under {PG_ROOT}; "
            "run `make sysdeps` to install postgresql and postgis"
        )
    return candidates[-1]


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(x) for x in name.split(".") if x.isdigit()) or (0,)


def _running_as_root() -> bool:
    return os.geteuid() == 0


@dataclass
class Cluster:
    """A private PostgreSQL cluster listening on 127.0.0.1:port only, with trust auth."""

    var_dir: Path
    port: int
    superuser: str

    @property
    def default_root(self) -> Path:
        """var/pg: the data directory and the server log live here."""
        return self.var_dir / "pg"

    @property
    def fallback_root(self) -> Path:
        """Where the cluster goes when root's server user cannot traverse var/."""
        digest = hashlib.sha256(str(self.var_dir.resolve()).encode()).hexdigest()[:12]
        return Path("/var/tmp") / f"landmarket-{digest}" / "pg"

    @property
    def root(self) -> Path:
        """The directory holding data/ and log/, chosen once and then found again."""
        for candidate in (self.default_root, self.fallback_root):
            if (candidate / "data" / "PG_VERSION").is_file():
                return candidate
        if _running_as_root() and not _server_user_can_reach(self.var_dir):
            return self.fallback_root
        return self.default_root

    @property
    def data_dir(self) -> Path:
        """PGDATA of the cluster."""
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        """Server log written by pg_ctl."""
        return self.root / "log" / "postgresql.log"

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL of one database on this cluster."""
        return f"postgresql+psycopg://{self.superuser}@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string of one database on this cluster."""
        return f"host=127.0.0.1 port={self.port} user={self.superuser} dbname={dbname}"

    def is_initialised(self) -> bool:
        """True when initdb has run."""
        return (self.data_dir / "PG_VERSION").is_file()

    def is_running(self) -> bool:
        """True when pg_ctl reports the server of this data directory as running."""
        if not self.is_initialised():
            return False
        pg_ctl = str(find_pg_bin() / "pg_ctl")
        result = self._pg([pg_ctl, "status", "-D", str(self.data_dir)], check=False)
        return result.returncode == 0

    def init(self) -> None:
        """Run initdb (trust auth, UTF8) and write the listen settings."""
        bin_dir = find_pg_bin()
        root = self.root  # decided once: creating directories below must not change it
        data, logs = root / "data", root / "log"
        logs.mkdir(parents=True, exist_ok=True)
        if _running_as_root():
            if root == self.fallback_root:
                root.parent.chmod(0o755)  # whatever the umask, postgres must get through
            user = pwd.getpwnam(SERVER_USER)
            for path in (root, logs):
                os.chown(path, user.pw_uid, user.pw_gid)
        locale = "C.UTF-8" if _has_c_utf8() else "C"
        self._pg(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "--auth=trust",
                "-U",
                self.superuser,
                "-E",
                "UTF8",
                "--locale",
                locale,
            ]
        )
        conf = data / "postgresql.conf"
        extra = (
            f"\n{_CONF_MARK}\n"
            "listen_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''  # socket paths under var/ can exceed 107 bytes\n"
            "max_connections = 200\n"
        )
        with open(conf, "a", encoding="utf-8") as handle:  # appending keeps the owner
            handle.write(extra)

    @property
    def port_file(self) -> Path:
        """Where the port actually in use is recorded for every later process."""
        return self.var_dir / "pg.port"

    def _claim_port(self) -> None:
        """Keep the preferred port if free, else take the next free one (another checkout's
        cluster may hold it), and record the choice."""
        for candidate in range(self.port, self.port + 100):
            if not _port_in_use(candidate):
                self.port = candidate
                self.port_file.write_text(f"{candidate}\n")
                return
        raise ClusterError(
            f"端口 {self.port}–{self.port + 99} 均被占用 / ports 127.0.0.1:{self.port}–"
            f"{self.port + 99} are all in use; set LANDMARKET_DB_PORT to a free port"
        )

    def start(self) -> None:
        """Start the server on a free loopback port and wait until it accepts connections."""
        self._claim_port()
        bin_dir = find_pg_bin()
        result = self._pg(
            [
                str(bin_dir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                f"-p {self.port}",
            ],
            check=False,
        )
        if result.returncode != 0:
            raise ClusterError(
                "数据库启动失败 / the embedded PostgreSQL failed to start: "
                f"{result.stderr.strip() or result.stdout.strip()}; see {self.log_file}"
            )

    def stop(self) -> bool:
        """Stop the server (fast shutdown); False when it was not running."""
        if not self.is_running():
            return False
        bin_dir = find_pg_bin()
        self._pg([str(bin_dir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)])
        return True

    def ensure_running(self) -> bool:
        """Create and start the cluster as needed; True when this call started it."""
        with self._lock():
            if self.is_running():
                return False
            if not self.is_initialised():
                self.init()
            self.start()
            return True

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return _flock(self.var_dir / ".pg.lock")

    def _pg(self, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a server command, as the postgres user when we are root."""
        if _running_as_root():
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        # cwd="/": the server user may not be allowed into the caller's directory
        result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd="/")
        if check and result.returncode != 0:
            raise ClusterError(
                f"命令失败 / command failed: {' '.join(argv)}\n{result.stderr.strip()}"
            )
        return result


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    """Serialise cluster start-up between processes (several helpers may run `db up` at once)."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _server_user_can_reach(var_dir: Path) -> bool:
    """Whether the postgres user can traverse every existing ancestor of var/."""
    probe = var_dir
    while not probe.exists():
        probe = probe.parent
    result = subprocess.run(
        ["runuser", "-u", SERVER_USER, "--", "test", "-x", str(probe)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def _has_c_utf8() -> bool:
    result = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False)
    names = {n.strip().lower() for n in result.stdout.splitlines()}
    return bool(names & {"c.utf8", "c.utf-8"})


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def embedded_cluster(settings: Settings | None = None) -> Cluster:
    """The cluster that `landmarket db up` manages for these settings."""
    settings = settings or get_settings()
    if shutil.which("runuser") is None and _running_as_root():
        raise ClusterError("以 root 运行需要 runuser / running as root needs runuser (util-linux)")
    return Cluster(
        var_dir=Path(settings.var_dir), port=settings.embedded_port, superuser=settings.db_user
    )


def libpq_conninfo(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://...) as a libpq URI psycopg accepts."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(server_url: str, dbname: str) -> bool:
    """Create dbname on the server of server_url if missing; True when created.

    Its text sorts by the "C" collation (byte order, which in UTF-8 is code point order: the
    order C.UTF-8 gives too) while character classes keep the server's UTF-8 ctype. PostgreSQL
    15 compares "C" text with memcmp and abbreviated keys, any other libc locale through
    strcoll: the parcel, village and land-use code indexes build ~20-40 % faster and every code
    lookup compares faster."""
    with psycopg.connect(libpq_conninfo(server_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if exists:
            return False
        ctype = conn.execute(
            "SELECT datctype FROM pg_database WHERE datname = 'template1'"
        ).fetchone()[0]
        utf8 = ctype.lower().replace("-", "").endswith(".utf8")
        conn.execute(
            sql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE {}"
            ).format(sql.Identifier(dbname), sql.Literal(ctype if utf8 else "C"))
        )
        return True


def drop_database(server_url: str, dbname: str) -> None:
    """Drop dbname, closing its other sessions first."""
    with psycopg.connect(libpq_conninfo(server_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )


def ensure_postgis(url: str) -> str:
    """CREATE EXTENSION postgis on the database of url; returns the PostGIS version."""
    with psycopg.connect(libpq_conninfo(url), autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except (psycopg.errors.UndefinedFile, psycopg.errors.FeatureNotSupported) as exc:
            version = conn.info.server_version // 10000
            raise ClusterError(
                f"PostgreSQL {version} 未安装 PostGIS，请运行 `make sysdeps` / "
                f"PostGIS is not installed for PostgreSQL {version}: run `make sysdeps` "
                f"(package postgresql-{version}-postgis-3). Server said: {exc}"
            ) from exc
        except psycopg.errors.InsufficientPrivilege as exc:
            raise ClusterError(
                "无权创建 postgis 扩展，请由数据库管理员执行 CREATE EXTENSION postgis / "
                f"not allowed to create the postgis extension; ask the DBA to run it. ({exc})"
            ) from exc
        row = conn.execute("SELECT postgis_lib_version()").fetchone()
        return str(row[0]) if row else "?"


def server_url(url: str, dbname: str = "postgres") -> str:
    """The same server and credentials as url, on another database."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=dbname).render_as_string(hide_password=False)
