"""No known secret key, ever: a production process without SECRET_KEY refuses to start."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    environment |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ENV_FILE": "/nonexistent/.env",  # a developer's own .env must not hide the refusal
        "DATABASE_URL": "sqlite:////tmp/never-created.sqlite3",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_secret_key_a_production_process_refuses_in_one_line_naming_it():
    result = manage("check")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("SECRET_KEY is not set")
    assert "Traceback" not in result.stderr


def test_with_debug_a_local_process_runs_on_a_throwaway_key():
    result = manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_with_a_secret_key_it_starts():
    result = manage("check", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr


def ensure_key(env_file) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    return subprocess.run(
        ["scripts/ensure-secret-key.sh", str(env_file)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )


def test_make_run_writes_a_random_key_into_env_once_and_says_so(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true")  # no newline at the end: the key still gets its own line
    first = ensure_key(env_file)
    assert "wrote a new random SECRET_KEY" in first.stdout
    lines = env_file.read_text().splitlines()
    assert lines[0] == "DEBUG=true"
    key = lines[1].removeprefix("SECRET_KEY=")
    assert len(key) >= 50

    again = ensure_key(env_file)
    assert again.stdout == ""
    assert env_file.read_text().splitlines() == lines

    other = tmp_path / "other.env"
    ensure_key(other)
    assert other.read_text().strip() != f"SECRET_KEY={key}"  # random, not a known default
