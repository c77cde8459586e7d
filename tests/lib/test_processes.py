"""Stopping on SIGTERM or Ctrl-C: said once, however many signals come."""

from __future__ import annotations

import logging
import signal
import threading

import pytest

from lib.processes import stop_on_signals


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
    assert stopping.is_set()
    assert [record.getMessage() for record in caplog.records] == [
        "received SIGTERM, finishing the work in hand"
    ]
