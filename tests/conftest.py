"""Shared fixtures. `make test` runs the suite on a real PostgreSQL server, then on SQLite."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def run_command():
    """Run a management command in-process; return (exit status, stdout, stderr)."""
    from io import StringIO

    from django.core.management.base import CommandError

    def run(*args: str) -> tuple[int, str, str]:
        out, err = StringIO(), StringIO()
        try:
            call_command(*args, stdout=out, stderr=err)
            status = 0
        except CommandError as error:
            err.write(str(error))
            status = error.returncode
        return status, out.getvalue(), err.getvalue()

    return run


def subprocess_database_url() -> str:
    """DATABASE_URL of the test database, for commands run as real processes."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def is_postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def postgres_maintenance() -> psycopg.Connection:
    """An autocommit connection to the test server's `postgres` database, to create and drop
    databases of a test's own."""
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname="postgres", autocommit=True
    )


@pytest.fixture
def new_database(tmp_path):
    """DATABASE_URL of a database that does not exist yet; a PostgreSQL one is dropped after."""
    if not is_postgresql():
        yield f"sqlite:///{tmp_path / 'new.sqlite3'}"
        return
    name = f"new_database_{secrets.token_hex(4)}"
    yield subprocess_database_url().rsplit("/", 1)[0] + f"/{name}"
    with postgres_maintenance() as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def manage_py():
    """Start `manage.py ARGS` as a separate process on the test database."""

    def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        environment = {
            **os.environ,
            "DATABASE_URL": subprocess_database_url(),
            "PYTHONUNBUFFERED": "1",
        }
        environment.update(env or {})
        return subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    return start


class RedisServer:
    """A redis-server of a test's own on a fixed port, stopped and restarted at will
    (what the session's `redis_url` cannot be: other tests share it)."""

    def __init__(self, workdir: Path, password: str = "") -> None:
        import shutil
        import socket

        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.fail(
                "redis-server is not installed; install Debian's redis-server package "
                "(make test installs it)"
            )
        self.workdir = workdir
        self.password = password
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        auth = f":{password}@" if password else ""
        self.url = f"redis://{auth}127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import time

        import redis

        self.process = subprocess.Popen(
            [
                self.binary,
                *("--bind", "127.0.0.1", "--port", str(self.port)),
                *(("--requirepass", self.password) if self.password else ()),
                *("--save", "", "--appendonly", "no", "--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A throwaway redis-server on 127.0.0.1 for the tests that share state through Redis."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def own_redis(tmp_path):
    """A started RedisServer of this test's own (no password), stopped at the end."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def discord_oauth(settings):
    """The Discord emulator, with "Sign in with Discord" pointed at it as settings would."""
    from tests.emulators.discord import DiscordEmulator, EmulatorConfig, RunningEmulator

    emulator = DiscordEmulator(EmulatorConfig())
    with RunningEmulator(emulator) as running:
        emulator.base_url = running.base_url
        settings.DISCORD_API_BASE = running.base_url
        settings.SOCIALACCOUNT_PROVIDERS = {
            **settings.SOCIALACCOUNT_PROVIDERS,
            "discord": {
                **settings.SOCIALACCOUNT_PROVIDERS["discord"],
                "APPS": [
                    {
                        "client_id": emulator.config.client_id,
                        "secret": emulator.config.client_secret,
                    }
                ],
            },
        }
        yield emulator
