"""Stopping on SIGTERM or Ctrl-C: said once, however many signals come."""

from __future__ import annotations

import logging
import signal
import threading
import time

import pytest

from lib.processes import stop_on_signals


def soon(condition) -> bool:
    """Whether `condition()` holds within 5 s: the stop is logged by a thread of its own."""
    deadline = time.monotonic() + 5
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    time.sleep(0.05)  # and nothing more comes
    return True


@pytest.fixture
def own_handlers():
    """The test installs handlers in this process: the previous ones come back after."""
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGTERM, previous[0])
    signal.signal(signal.SIGINT, previous[1])


def test_a_second_signal_stops_nothing_more_and_says_nothing_more(own_handlers, caplog):
    stopping = threading.Event()
    log = logging.getLogger("tests.stopping")
    stop_on_signals(stopping, log, "finishing the work in hand")
    with caplog.at_level(logging.INFO, logger="tests.stopping"):
        signal.raise_signal(signal.SIGTERM)  # the process group's, under `make run`
        signal.raise_signal(signal.SIGTERM)  # and the one its script passes on
        signal.raise_signal(signal.SIGINT)
        assert soon(lambda: caplog.records)
    assert stopping.is_set()
    assert [record.getMessage() for record in caplog.records] == [
        "received SIGTERM, finishing the work in hand"
    ]


class OneWriterAtATime(logging.Handler):
    """A log destination with a lock that is not re-entrant, as a file or a pipe may have;
    the signal arrives while it writes "writing"."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Lock()
        self.lines: list[str] = []
        self.stuck = False

    def handle(self, record: logging.LogRecord) -> bool:
        if not self.gate.acquire(timeout=2):
            self.stuck = True  # the same thread waiting on itself: forever, but for the timeout
            return False
        try:
            self.lines.append(record.getMessage())
            if record.getMessage() == "writing":
                signal.raise_signal(signal.SIGTERM)
        finally:
            self.gate.release()
        return True


def test_a_signal_in_the_middle_of_a_log_line_still_stops_and_says_so(own_handlers):
    stopping = threading.Event()
    log = logging.getLogger("tests.stopping.writer")
    writer = OneWriterAtATime()
    log.addHandler(writer)
    log.setLevel(logging.INFO)
    try:
        stop_on_signals(stopping, log, "stopping")
        log.info("writing")
        assert soon(lambda: len(writer.lines) == 2)
    finally:
        log.removeHandler(writer)
    assert stopping.is_set()
    assert not writer.stuck
    assert writer.lines == ["writing", "received SIGTERM, stopping"]
