"""Backups of the default database and restores into it.

PostgreSQL: `pg_dump --format=custom` and `pg_restore`, with the password passed in
PGPASSWORD (never on a command line, never printed). SQLite: the online backup API,
which copies a consistent snapshot while other processes write (WAL) and, restoring,
writes into the live file through SQLite's own locking instead of swapping files under
open connections (a swapped file would meet the old file's -wal and be corrupted).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections

POSTGRESQL = "postgresql"
SQLITE = "sqlite"
ENGINES = {
    "django.db.backends.postgresql": POSTGRESQL,
    "django.db.backends.sqlite3": SQLITE,
}
LABELS = {POSTGRESQL: "PostgreSQL", SQLITE: "SQLite"}
# What a file of each kind is called in messages.
NOUNS = {POSTGRESQL: "PostgreSQL dump", SQLITE: "SQLite database"}
# The first bytes of a pg_dump custom-format archive and of a SQLite database file.
MAGIC = {POSTGRESQL: b"PGDMP", SQLITE: b"SQLite format 3\x00"}
PG_INSTALL_ROOT = Path("/usr/lib/postgresql")
# Where CREATE DATABASE is run from, as Django's test runner does.
PG_MAINTENANCE_DB = "postgres"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line for the operator."""


@dataclass(frozen=True)
class Done:
    """What a backup or restore did, for the command's summary line."""

    engine: str  # "PostgreSQL" or "SQLite"
    name: str  # the database name, or the SQLite file's path
    path: Path
    size: int  # bytes of the backup file
    seconds: float
    created: bool = False  # a restore that created the database

    @property
    def megabytes(self) -> float:
        return self.size / 1_000_000


def backup(path: Path, alias: str = "default") -> Done:
    """Write a consistent snapshot of the database to `path`, atomically (path.tmp, then rename)."""
    database = settings.DATABASES[alias]
    engine = engine_of(database)
    path = Path(path)
    if not path.parent.is_dir():
        raise BackupError(f"can't write {path}: the directory {path.parent} does not exist")
    started = time.monotonic()
    partial = path.with_name(path.name + ".tmp")
    try:
        if engine == POSTGRESQL:
            _pg_dump(database, partial)
        else:
            try:
                _sqlite_backup(database, partial)
            except sqlite3.Error as error:
                raise BackupError(f"can't back up {database['NAME']}: {error}") from None
        _fsync(partial)
        partial.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return Done(
        LABELS[engine],
        str(database["NAME"]),
        path,
        path.stat().st_size,
        time.monotonic() - started,
    )


def restore(path: Path, force: bool = False, alias: str = "default") -> Done:
    """Restore the backup at `path` into the database, creating it when it does not exist.

    Refuses a file of the other engine's kind, and a database that holds data unless
    `force` (which replaces what the backup holds: PostgreSQL's --clean, SQLite's copy).
    """
    database = settings.DATABASES[alias]
    engine = engine_of(database)
    path = Path(path)
    kind = kind_of(path)
    if kind != engine:
        raise BackupError(f"{path} is a {NOUNS[kind]}; this installation uses {LABELS[engine]}")
    name = str(database["NAME"])
    started = time.monotonic()
    if engine == POSTGRESQL:
        created = _pg_create_database_if_missing(database)
    else:
        created = not Path(name).exists() or Path(name).stat().st_size == 0
    if not created:
        try:
            holding = tables_with_rows(alias)
        except DatabaseError as error:
            raise BackupError(f"can't look into the database {name}: {error}") from None
        if holding and not force:
            shown = ", ".join(holding[:3]) + (", …" if len(holding) > 3 else "")
            raise BackupError(
                f"the {LABELS[engine]} database {name} already holds data ({shown}); "
                "restore --force replaces it with the backup"
            )
    connections[alias].close()  # nothing of ours holds the database while it is replaced
    if engine == POSTGRESQL:
        # A database that existed (empty, or replaced with --force) may hold the schema.
        _pg_restore(database, path, clean=not created)
    else:
        try:
            _sqlite_restore(database, path)
        except sqlite3.Error as error:
            raise BackupError(f"can't restore into {name}: {error}") from None
    return Done(
        LABELS[engine], name, path, path.stat().st_size, time.monotonic() - started, created
    )


def engine_of(database: Mapping[str, Any]) -> str:
    try:
        return ENGINES[database["ENGINE"]]
    except KeyError:
        raise BackupError(
            f"backup and restore support PostgreSQL and SQLite, not {database['ENGINE']}"
        ) from None


def kind_of(path: Path) -> str:
    """POSTGRESQL or SQLITE, by the file's first bytes."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as error:
        raise BackupError(f"can't read {path}: {error.strerror}") from None
    for kind, magic in MAGIC.items():
        if head.startswith(magic):
            return kind
    raise BackupError(f"{path} is neither a PostgreSQL custom-format dump nor a SQLite database")


def tables_with_rows(alias: str = "default") -> list[str]:
    """The database's tables that hold at least one row (django_migrations counts)."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
        holding = []
        for name in names:
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(name)} LIMIT 1")
            if cursor.fetchone():
                holding.append(name)
    # The migrations table first: it is the one an operator recognises.
    return sorted(holding, key=lambda name: (name != "django_migrations", name))


# PostgreSQL


def find_pg_tool(
    name: str, search_path: str | None = None, install_root: Path = PG_INSTALL_ROOT
) -> str:
    """The pg_dump/pg_restore on PATH, else the newest under /usr/lib/postgresql/*/bin."""
    found = shutil.which(name, path=search_path)
    if found:
        return found
    candidates = [
        binary for binary in install_root.glob(f"*/bin/{name}") if os.access(binary, os.X_OK)
    ]
    if candidates:
        return str(max(candidates, key=lambda binary: _version_key(binary.parent.parent.name)))
    raise BackupError(
        f"{name} not found on PATH or under {install_root}/*/bin; install the PostgreSQL "
        "client tools (Debian: apt-get install postgresql-client), as new as the server"
    )


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def pg_command(
    tool: str, database: Mapping[str, Any], *args: str
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of a PostgreSQL client tool for the database.

    The password goes in PGPASSWORD: a command line is visible to every user of the host.
    """
    argv = [find_pg_tool(tool)]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if database.get(key):
            argv.append(f"{flag}={database[key]}")
    argv += ["--no-password", *args]
    env = dict(os.environ)
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    sslmode = (database.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return argv, env


def _run(tool: str, argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # pg_* tools print "tool: error: …" lines; the last few say what went wrong.
        message = (
            " ".join(result.stderr.strip().splitlines()[-3:]) or f"exit status {result.returncode}"
        )
        raise BackupError(f"{tool} failed: {message}")


def _pg_dump(database: Mapping[str, Any], target: Path) -> None:
    # pg_dump reads in one repeatable-read transaction: a consistent snapshot, writers unblocked.
    argv, env = pg_command(
        "pg_dump", database, "--format=custom", f"--file={target}", f"--dbname={database['NAME']}"
    )
    _run("pg_dump", argv, env)


def _pg_restore(database: Mapping[str, Any], source: Path, clean: bool) -> None:
    options = [
        "--no-owner",  # the objects belong to whoever restores, not the dumping role
        "--no-privileges",  # GRANTs may name roles this server does not have
        "--exit-on-error",
        "--single-transaction",  # a failed restore leaves the database as it was
    ]
    if clean:
        options += ["--clean", "--if-exists"]
    argv, env = pg_command(
        "pg_restore", database, *options, f"--dbname={database['NAME']}", str(source)
    )
    _run("pg_restore", argv, env)


@contextlib.contextmanager
def _pg_maintenance(database: Mapping[str, Any]) -> Iterator[Any]:
    import psycopg

    params = {
        "host": database.get("HOST") or None,
        "port": database.get("PORT") or None,
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "sslmode": (database.get("OPTIONS") or {}).get("sslmode"),
    }
    try:
        connection = psycopg.connect(
            dbname=PG_MAINTENANCE_DB,
            autocommit=True,
            **{key: value for key, value in params.items() if value},
        )
    except psycopg.Error as error:
        raise BackupError(
            f"can't connect to the {PG_MAINTENANCE_DB!r} database to check for "
            f"{database['NAME']}: {str(error).strip()}"
        ) from None
    with connection:
        yield connection


def _pg_create_database_if_missing(database: Mapping[str, Any]) -> bool:
    """Create the database (from template0, empty as pg_restore wants it); True if created."""
    import psycopg
    from psycopg import sql

    name = str(database["NAME"])
    with _pg_maintenance(database) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        try:
            connection.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
            )
        except psycopg.Error as error:
            raise BackupError(f"can't create the database {name}: {str(error).strip()}") from None
        return True


# SQLite


def _sqlite_timeout(database: Mapping[str, Any]) -> float:
    return (database.get("OPTIONS") or {}).get("timeout", 20.0)


def _sqlite_backup(database: Mapping[str, Any], target: Path) -> None:
    source = Path(database["NAME"])
    if not source.is_file():
        # sqlite3.connect would create an empty database there instead.
        raise BackupError(f"the SQLite database {source} does not exist")
    with (
        contextlib.closing(sqlite3.connect(source, timeout=_sqlite_timeout(database))) as reader,
        contextlib.closing(sqlite3.connect(target)) as writer,
    ):
        # One step: the whole copy reads one snapshot, however busy the writers are.
        reader.backup(writer)
        # A single self-contained file, readable without a -wal beside it.
        writer.execute("PRAGMA journal_mode=DELETE")


def _sqlite_restore(database: Mapping[str, Any], source: Path) -> None:
    with contextlib.closing(sqlite3.connect(source)) as reader:
        try:
            verdict = reader.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source} is damaged: {error}") from None
        if verdict != "ok":
            raise BackupError(f"{source} is damaged: {verdict}")
        target = Path(database["NAME"])
        with contextlib.closing(
            sqlite3.connect(target, timeout=_sqlite_timeout(database))
        ) as writer:
            # Written through SQLite's locks: open connections see the backup's content next.
            reader.backup(writer)


def _fsync(path: Path) -> None:
    """Flush the file to disk before the rename makes it the backup."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
