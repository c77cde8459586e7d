"""Reading durations people type: `30m`, `8h`, `1d12h`, `2 days`."""

from __future__ import annotations

import re
from datetime import timedelta

from filters.errors import FieldError

_PART = re.compile(r"(\d+)\s*(m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(field: str, text: str) -> timedelta:
    compact = text.strip()
    parts = _PART.findall(compact)
    if not parts or _PART.sub("", compact).strip(" ,"):
        raise FieldError(field, f"“{text}” is not a duration; write it like 30m, 8h, 1d or 1d12h.")
    total = timedelta()
    for number, unit in parts:
        total += timedelta(**{_UNITS[unit[0].lower()]: int(number)})
    if total <= timedelta():
        raise FieldError(field, "The duration must be longer than zero.")
    return total
