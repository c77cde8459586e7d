"""Deployment: gunicorn serves the app and stops in time; the Procfile, the systemd units, the
Dockerfile and docker-compose.yml run commands that exist, with every variable documented.

Docker cannot run here, so its files are read, not run; gunicorn and `systemd-analyze
verify` run for real.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from configparser import ConfigParser
from importlib.util import find_spec
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from lib.metrics import process_identifier
from lib.processes import descendants
from tests.conftest import ROOT, subprocess_database_url

SYSTEMD = ROOT / "deploy" / "systemd"
UNITS = ["web", "qcluster", "sendalerts", "runbot"]
INSTALL_DIR = "/opt/market-alerts"  # where the units and the image keep the code


# ---- gunicorn, for real -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_env(port: int, metrics_dir: Path, **env: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"WEB_BIND", "WEB_CONCURRENCY"}}
    return environment | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "ENV_FILE": "/nonexistent/.env",  # a developer's own .env must not change the run
        "DATABASE_URL": subprocess_database_url(),
        "METRICS_DIR": str(metrics_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "PYTHONUNBUFFERED": "1",
        **env,
    }


@pytest.fixture
def gunicorn(tmp_path):
    """Start `gunicorn -c config/gunicorn.py config.wsgi` as a service manager would; wait until
    /healthz answers. Yields (process, port, environment); kills what is left afterwards."""
    started: list[subprocess.Popen] = []

    def start(**env: str) -> tuple[subprocess.Popen, int, dict[str, str]]:
        port = free_port()
        environment = gunicorn_env(port, tmp_path / "metrics", **env)
        process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        started.append(process)
        deadline = time.monotonic() + 90
        while healthz(port) != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                pytest.fail(f"gunicorn never answered /healthz:\n{process.stdout.read()}")
            time.sleep(0.2)
        return process, port, environment

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def healthz(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return answer.status
    except OSError:
        return None


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(0.1)


def test_gunicorn_serves_the_app_and_stops_within_10s_of_sigterm(gunicorn):
    process, _, environment = gunicorn()
    assert len(descendants(process.pid)) == 2  # WEB_CONCURRENCY workers
    # The container's health check says healthy too.
    check = subprocess.run(
        [sys.executable, "deploy/healthcheck.py"], cwd=ROOT, env=environment, timeout=30
    )
    assert check.returncode == 0

    process.send_signal(signal.SIGTERM)  # as systemd (KillMode=mixed) and Docker stop it
    started = time.monotonic()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"gunicorn still ran 10 s after SIGTERM:\n{process.stdout.read()}")
    wait_for(lambda: not descendants(process.pid), 10 - (time.monotonic() - started), "exit")
    assert process.returncode == 0
    output = process.stdout.read()
    # Its own lines go through the app's LOGGING: the root handler's format, not gunicorn's.
    assert "Booting worker" in output and "[INFO] Booting worker" not in output


def test_a_killed_worker_loses_its_live_gauges_and_is_replaced(gunicorn, tmp_path):
    process, port, _ = gunicorn()
    metrics = tmp_path / "metrics"
    victim, survivor = descendants(process.pid)
    # What prometheus_client's multiprocess mode would write for the worker's live gauges.
    live = metrics / f"gauge_livesum_{process_identifier(victim)}.db"
    counter = metrics / f"counter_{process_identifier(victim)}.db"
    live.write_bytes(b"")
    counter.write_bytes(b"")

    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: not live.exists(), 30, "the master's child_exit")
    assert counter.exists()  # counters of finished processes keep counting in the totals
    wait_for(lambda: len(descendants(process.pid)) == 2, 60, "a replacement worker")
    assert victim not in descendants(process.pid) and survivor in descendants(process.pid)
    assert healthz(port) == 200


def print_config(metrics_dir: Path, **env: str) -> dict[str, str]:
    environment = gunicorn_env(8000, metrics_dir, **env)
    for name in ("PORT", "WEB_CONCURRENCY"):
        if name not in env:
            environment.pop(name)
    done = subprocess.run(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-c",
            "config/gunicorn.py",
            "--print-config",
            "config.wsgi",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition("=") for line in done.stdout.splitlines())
    )


def test_gunicorn_binds_loopback_by_default_and_follows_port_web_bind_and_web_concurrency(
    tmp_path,
):
    cores = len(os.sched_getaffinity(0))
    default = print_config(tmp_path)
    assert default["bind"] == "['127.0.0.1:8000']"
    assert default["workers"] == str(min(2 * cores + 1, 8))
    assert int(default["graceful_timeout"]) < 10  # systemd and Docker wait 15 s
    assert default["accesslog"] == "None"

    assert print_config(tmp_path, PORT="9001")["bind"] == "['127.0.0.1:9001']"
    chosen = print_config(
        tmp_path, WEB_BIND="0.0.0.0:8000, unix:/run/web.sock", WEB_CONCURRENCY="3"
    )
    assert chosen["bind"] == "['0.0.0.0:8000', 'unix:/run/web.sock']"
    assert chosen["workers"] == "3"


# ---- the files, read --------------------------------------------------------------------


def manage_subcommands(command: str) -> list[str]:
    return re.findall(r"manage\.py\s+([\w-]+)", command)


def assert_command_exists(command: str) -> None:
    """Every `manage.py X` names a command; a gunicorn line names our config and the WSGI app."""
    words = shlex.split(command)
    known = get_commands()
    for name in manage_subcommands(command):
        assert name in known, f"{command!r}: no manage.py command {name!r}"
    if any(Path(word).name == "gunicorn" for word in words):
        config = words[words.index("-c") + 1]
        assert (ROOT / config).is_file(), command
        assert words[-1] == "config.wsgi" and find_spec("config.wsgi") is not None, command
    assert manage_subcommands(command) or "gunicorn" in command, command


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_whole_stack_with_commands_that_exist():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "sender", "bot"}
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    commands = {name: services[name]["command"] for name in services if "command" in services[name]}
    assert manage_subcommands(" ".join(commands["migrate"])) == ["migrate", "setup_schedules"]
    assert manage_subcommands(" ".join(commands["worker"])) == ["qcluster"]
    assert manage_subcommands(" ".join(commands["sender"])) == ["sendalerts"]
    assert manage_subcommands(" ".join(commands["bot"])) == ["runbot"]
    for name in ("migrate", "web", "worker", "sender", "bot"):
        assert_command_exists(shlex.join(services[name]["command"]))
        assert services[name]["env_file"] == ".env"
        assert "postgres:5432" in services[name]["environment"]["DATABASE_URL"]
    assert set(services["migrate"]["depends_on"]) == {"postgres", "redis"}
    for name in ("web", "worker", "sender", "bot"):
        # The schema is in place before any app process starts.
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert services[name]["init"] is True  # SIGTERM reaches the process
    check = services["web"]["healthcheck"]["test"]
    assert check[:2] == ["CMD", "python"] and (ROOT / check[2]).is_file()


def test_the_procfile_has_every_process_type_with_commands_that_exist():
    processes = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert set(processes) == {"web", "worker", "sender", "bot", "release"}
    for command in processes.values():
        for part in command.split("&&"):
            assert_command_exists(re.sub(r"^\s*\w+=\S+\s+", "", part))
    assert manage_subcommands(processes["release"]) == [
        "migrate",
        "collectstatic",
        "setup_schedules",
    ]


def unit(name: str) -> ConfigParser:
    parser = ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(SYSTEMD / f"market-alerts-{name}.service")
    return parser


@pytest.mark.parametrize("name", UNITS)
def test_every_systemd_unit_restarts_stops_in_time_and_runs_a_command_that_exists(name):
    service = unit(name)["Service"]
    assert service["Restart"] == "always"
    assert service["KillSignal"] == "SIGTERM"
    assert service["TimeoutStopSec"] == "15"
    assert service["User"] == "market-alerts"
    assert service["WorkingDirectory"] == INSTALL_DIR
    assert service["EnvironmentFile"] == "/etc/market-alerts/env"
    # One metrics directory for the host's processes, which no unit's restart wipes.
    assert service["RuntimeDirectory"] == "market-alerts/metrics"
    assert service["RuntimeDirectoryPreserve"] == "yes"
    assert service["Environment"] == "METRICS_DIR=/run/market-alerts/metrics"
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    command = service["ExecStart"]
    executable = Path(command.split()[0].replace(INSTALL_DIR, str(ROOT)))
    assert os.access(executable, os.X_OK), command
    assert_command_exists(command)
    assert unit(name)["Install"]["WantedBy"] == "market-alerts.target"


def test_the_release_unit_migrates_then_installs_the_schedules_once():
    text = (SYSTEMD / "market-alerts-release.service").read_text()
    commands = re.findall(r"^ExecStart=(.+)$", text, flags=re.MULTILINE)
    assert [manage_subcommands(command) for command in commands] == [
        ["migrate"],
        ["setup_schedules"],
    ]
    for command in commands:
        assert_command_exists(command)
    service = unit("release")["Service"]
    assert service["Type"] == "oneshot" and "Restart" not in service
    assert service["User"] == "market-alerts"
    assert service["EnvironmentFile"] == "/etc/market-alerts/env"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not here")
def test_systemd_accepts_every_unit_and_key(tmp_path):
    # The units as installed in this checkout; verify names unknown keys and bad values.
    for path in SYSTEMD.iterdir():
        text = path.read_text().replace(INSTALL_DIR, str(ROOT))
        (tmp_path / path.name).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(map(str, tmp_path.iterdir()))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_the_dockerfile_builds_a_non_root_image_without_a_baked_secret():
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")  # continued lines joined
    instructions = [
        tuple(line.split(None, 1)) for line in text.splitlines() if line and line[0] != "#"
    ]
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert ("USER", "market-alerts") in instructions
    assert instructions[-1][0] == "CMD"
    # The build-time key lives in one RUN step only, never in the image's environment.
    for word, rest in instructions:
        if word in {"ENV", "ARG"}:
            assert "SECRET_KEY" not in rest
    assert any(word == "RUN" and "collectstatic" in rest for word, rest in instructions)
    assert_command_exists(shlex.join(yaml.safe_load(instructions[-1][1])))


def documented_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_every_variable_the_deployment_files_use_is_documented_in_env_example():
    files = [
        ROOT / "docker-compose.yml",
        ROOT / "Dockerfile",
        ROOT / "Procfile",
        *SYSTEMD.iterdir(),
    ]
    used = {name for path in files for name in re.findall(r"\$\{(\w+)", path.read_text())}
    # What gunicorn's config and the health check read from the environment themselves.
    for path in (ROOT / "config" / "gunicorn.py", ROOT / "deploy" / "healthcheck.py"):
        used |= set(re.findall(r"""environ\.get\(\s*["'](\w+)""", path.read_text()))
        used |= set(re.findall(r"""_whole_number\(\s*["'](\w+)""", path.read_text()))
    assert used >= {"POSTGRES_PASSWORD", "WEB_BIND", "PORT", "WEB_CONCURRENCY"}
    assert used - documented_variables() == set()
