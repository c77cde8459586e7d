"""Evenly spaced slots at a fixed rate, for one process: Discord's budget and a source's pace.

Each reservation moves the next free slot forward by one interval and tells
the caller how long to wait for its slot, so requests leave evenly spaced and a
late caller never catches up by sending two at once.

`take_slot` waits for a slot in a coroutine, and gives up a slot it woke too
late for: when the event loop or the host was busy, several waiting requests
wake together, and sending them all at once would crowd one second at Discord
beside the slots other processes send on time.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Protocol

# A slot missed by more than this (about one slot at Discord's pace) is given up.
LATE_SLOT_SECONDS = 0.025


class Budget(Protocol):
    def reserve(self) -> float: ...


class LocalBudget:
    """Send slots for one process."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next_free = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Reserve the next slot; return the seconds to wait for it."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_free)
            self._next_free = slot + self.interval
            return slot - now

    def peek(self) -> float:
        """Seconds until the next slot is free, without reserving it."""
        with self._lock:
            return max(0.0, self._next_free - time.monotonic())

    def block(self, seconds: float) -> None:
        """No slot before `seconds` from now (Discord said to wait)."""
        with self._lock:
            self._next_free = max(self._next_free, time.monotonic() + seconds)


async def take_slot(budget: Budget, late_after: float = LATE_SLOT_SECONDS) -> int:
    """Wait for a slot of `budget`; return how many slots were given up on the way."""
    missed = 0
    while True:
        wait = budget.reserve()
        due = time.monotonic() + wait
        await asyncio.sleep(wait)
        if time.monotonic() - due <= late_after:
            return missed
        missed += 1
