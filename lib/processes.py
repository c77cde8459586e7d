"""Stopping long-running commands: on SIGTERM or Ctrl-C, and ending a process's descendants,
for commands that must stop within seconds."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from pathlib import Path


def stop_on_signals(stopping: threading.Event, log: logging.Logger, doing: str) -> None:
    """On SIGTERM or SIGINT, set `stopping` and log "received SIGTERM, <doing>" once: a
    second signal (a process group's and a parent's, as under `make run`) says nothing more,
    nor do the processes forked after this (a Ctrl-C reaches them too; their parent stops
    them).

    The handler only writes the signal's number to a pipe; a thread reading it sets the
    event and logs. A handler runs in the main thread between any two bytecodes, so one
    that set the event or logged itself could interrupt that same thread inside
    `stopping.wait()` or a logging call, and wait forever on the lock it holds there.
    """
    installer = os.getpid()
    read_end, write_end = os.pipe()
    requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal requested
        if requested or os.getpid() != installer:
            return
        requested = True
        os.write(write_end, bytes([signum]))

    def stop_when_signalled() -> None:
        signum = os.read(read_end, 1)[0]
        # Said before the stop starts: a process may be gone a moment after the event is set.
        log.info("received %s, %s", signal.Signals(signum).name, doing)
        stopping.set()

    threading.Thread(target=stop_when_signalled, name="stop-signal", daemon=True).start()
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)


def descendants(pid: int) -> list[int]:
    """Every live process below `pid`, children first (Linux /proc; empty elsewhere)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and parentheses: the ppid follows the last ")".
            fields = stat.read_text().rpartition(")")[2].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    found: list[int] = []
    frontier = [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found.extend(children)
        frontier = children
    return found


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            os.kill(pid, signal.SIGKILL)
