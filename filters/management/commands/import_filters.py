"""`manage.py import_filters FILE`: create or update users and their filters from JSON Lines.

One user a line. Idempotent: users are found by Discord id, filters by name, and
a second run changes nothing. Filters already stored but absent from the file
are kept. Each line is all or nothing: a line with a bad field or a bad filter
(or a banned user, or more new filters than the quota allows) is reported and
changes nothing; the other lines are imported. Lines are written CHUNK users at
a time, so a large file costs a few queries per chunk, not per user.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandError

from filters.brands import BrandTable
from filters.imports import UserLine, import_discord_users
from lib.commands import JsonLinesCommand
from lib.errors import FieldError
from lib.jsonl import LineError
from lib.refusals import refused_line

USER_FIELDS = {"discord_id", "username", "destination", "filters"}
# Users written per call of the service, which takes them in one transaction (or a few).
CHUNK = 500


def _destination(value: Any) -> tuple[str, Any, Any]:
    if value is None:
        return "dm", "", ""
    if not isinstance(value, dict) or value.get("kind") not in {"dm", "channel"}:
        raise FieldError(
            "destination", 'must be {"kind": "dm"} or {"kind": "channel", "channel_id", "guild_id"}'
        )
    return value["kind"], value.get("channel_id"), value.get("guild_id")


class Command(JsonLinesCommand):
    help = "Import users and their filters from a JSON Lines file (one user a line)."
    line_help = "one user object a line"
    unit = "user"

    def handle(self, *args, file: str, **options) -> None:
        started = time.perf_counter()
        brands = BrandTable.load()
        errors: list[LineError] = []
        counts = {"users_new": 0, "created": 0, "updated": 0, "unchanged": 0, "read": 0}
        chunk: list[tuple[int, UserLine]] = []
        for number, item in self.lines(file):
            counts["read"] += 1
            if isinstance(item, LineError):
                errors.append(item)
                continue
            line = _user_line(number, item)
            if isinstance(line, list):
                errors.extend(line)
                continue
            chunk.append((number, line))
            if len(chunk) >= CHUNK:
                errors.extend(_import_chunk(chunk, brands, counts))
                chunk = []
        errors.extend(_import_chunk(chunk, brands, counts))
        errors.sort(key=lambda error: error.line)  # a line's own errors keep their order
        for error in errors:
            self.stderr.write(str(error))
        rejected_lines = len({e.line for e in errors})
        self.stdout.write(
            f"read {counts['read']}, new users {counts['users_new']}, filters created {counts['created']}, "
            f"updated {counts['updated']}, unchanged {counts['unchanged']}, "
            f"lines with errors {rejected_lines}, {time.perf_counter() - started:.2f}s"
        )
        if errors:
            raise CommandError(
                f"{len(errors):,} problem(s) in {rejected_lines:,} line(s)", returncode=1
            )


def _user_line(number: int, item: dict) -> UserLine | list[LineError]:
    """The line's user as the service takes it, or what is wrong with its shape."""
    unknown = [key for key in item if key not in USER_FIELDS]
    if unknown:
        return [
            LineError(number, key, f"is not a user field; use {', '.join(sorted(USER_FIELDS))}")
            for key in unknown
        ]
    entries = item.get("filters", [])
    if not isinstance(entries, list):
        return [LineError(number, "filters", "must be a list of filter objects")]
    try:
        destination = _destination(item.get("destination"))
    except FieldError as error:
        return [LineError(number, error.field, error.message)]
    return UserLine(item.get("discord_id"), item.get("username"), destination, entries)


def _import_chunk(
    chunk: list[tuple[int, UserLine]], brands: BrandTable, counts: dict
) -> list[LineError]:
    outcomes = import_discord_users([line for _, line in chunk], brands)
    errors: list[LineError] = []
    for (number, _), outcome in zip(chunk, outcomes, strict=True):
        if outcome.refused:
            errors.append(refused_line(number, outcome.refused))
        elif outcome.errors:
            errors.extend(
                LineError(number, _where(position, e.field), e.message)
                for position, e in outcome.errors
            )
        else:
            counts["users_new"] += outcome.user_created
            counts["created"] += outcome.created
            counts["updated"] += outcome.updated
            counts["unchanged"] += outcome.unchanged
    return errors


def _where(position: int | None, field: str) -> str:
    """Where an error is on the line: `discord_id`, `filters[2].price_max`, `filters`."""
    if position is None:
        return field or "filters"
    return f"filters[{position}]" + (f".{field}" if field else "")
