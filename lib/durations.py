"""Reading durations people type: `30m`, `8h`, `1d12h`, `2 days`."""

from __future__ import annotations

import re
from datetime import timedelta

from lib.errors import FieldError

# ASCII digits only: \d would take other scripts' digits too.
_PART = re.compile(
    r"([0-9]+)\s*(m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)", re.IGNORECASE | re.ASCII
)
# Far past any use (the longest mute is 30 days) and well inside what timedelta holds.
LONGEST = timedelta(days=3650)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _shown(text: str) -> str:
    """The input as quoted back in a message, cut so the answer stays short."""
    return text if len(text) <= 40 else f"{text[:40]}…"


def parse_duration(field: str, text: str) -> timedelta:
    compact = text.strip()
    parts = _PART.findall(compact)
    if not parts or _PART.sub("", compact).strip(" ,"):
        raise FieldError(
            field, f"“{_shown(text)}” is not a duration; write it like 30m, 8h, 1d or 1d12h."
        )
    total = timedelta()
    for number, unit in parts:
        if len(number) > 7:  # past ten years in any unit, and past what timedelta() holds
            total = LONGEST + timedelta(days=1)
        else:
            total += timedelta(**{_UNITS[unit[0].lower()]: int(number)})
        if total > LONGEST:
            raise FieldError(field, f"“{_shown(text)}” is longer than {LONGEST.days // 365} years.")
    if total <= timedelta():
        raise FieldError(field, "The duration must be longer than zero.")
    return total
