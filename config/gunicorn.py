"""gunicorn's settings for the production web server: `gunicorn -c config/gunicorn.py config.wsgi`.

- Binds WEB_BIND (`host:port`, `unix:/path`, several comma-separated), else
  127.0.0.1:PORT (8000): loopback, behind a TLS proxy. Containers set
  WEB_BIND=0.0.0.0:8000 (the Dockerfile does).
- Runs WEB_CONCURRENCY sync workers, else 2 × cores + 1, at most 8 (each holds a
  database connection and its own copy of the app).
- Stops within 10 s of SIGTERM: requests in flight get 8 s, then are killed.
- Writes no access log (the app logs each request); gunicorn's own lines (booting,
  worker timeouts) go through Django's LOGGING, in the same format as the app's.
- Forgets a dead worker's live metrics (lib.metrics.process_exited).
"""

from __future__ import annotations

import copy
import importlib
import os
import sys

DEFAULT_PORT = 8000
MAX_DEFAULT_WORKERS = 8


def _whole_number(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        # One line, like settings.py's refusals: gunicorn would print a traceback.
        sys.exit(f"{name} must be a whole number of at least 1, not {value!r}")
    return number


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except AttributeError:
        return os.cpu_count() or 1


def _django_logging() -> dict:
    """Django's LOGGING, read here in the master before any worker loads Django."""
    name = os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    before = set(sys.modules)
    # Importing the settings also checks them (a missing SECRET_KEY stops here, in one
    # line) and sets PROMETHEUS_MULTIPROC_DIR, which child_exit needs and workers inherit.
    logging_config = copy.deepcopy(importlib.import_module(name).LOGGING)
    # Forgotten again, so that workers started after a reload (SIGHUP) read the settings afresh.
    for module in set(sys.modules) - before:
        if module == name or module.startswith("config."):
            del sys.modules[module]
    return logging_config


def _bind() -> list[str]:
    addresses = [item.strip() for item in os.environ.get("WEB_BIND", "").split(",")]
    return [item for item in addresses if item] or [
        f"127.0.0.1:{_whole_number('PORT', DEFAULT_PORT)}"
    ]


wsgi_app = "config.wsgi"
bind = _bind()
workers = _whole_number("WEB_CONCURRENCY", min(2 * _cores() + 1, MAX_DEFAULT_WORKERS))
worker_class = "sync"
timeout = 30  # a worker stuck this long on one request is killed and replaced
graceful_timeout = 8  # SIGTERM: in-flight requests get this long; systemd waits 15 s
keepalive = 2
# The heartbeat file on memory: an overlay or slow disk can stall it into false timeouts.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicornc's control socket is not used; by default it would land in $HOME, which the
# service's sandbox keeps read-only, and two servers of one user would share it.
control_socket_disable = True
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

_logging = _django_logging()
logconfig_dict = {
    **_logging,
    "loggers": {
        **_logging.get("loggers", {}),
        # No handler of gunicorn's own: its lines go up to the root logger's handlers.
        "gunicorn.error": {"handlers": [], "propagate": True},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}


def child_exit(server, worker) -> None:
    """In the master, after a worker exited (stopped, killed, timed out): its live gauges go,
    its counters stay."""
    from lib.metrics import process_exited  # lazily: the master loads no app code otherwise

    process_exited(worker.pid)
