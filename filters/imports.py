"""Bulk imports of filters: one user's list (`loaddemo`, the bot's import) and whole files of
users with their destinations and filters (`manage.py import_filters`).

Every line is all or nothing and is checked in Python before anything is
written; the rules are the services' own (filters/services.py), applied the
same way. A file's users are written in runs, a few queries a run, and a run
the database refuses for one line's sake is imported again line by line.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import JSONField
from django.utils import timezone

from filters.brands import BrandTable
from filters.matching import bump_index_version
from filters.models import Filter
from filters.services import (
    apply_changes,
    check_quota,
    clean_new_filter,
    lock_owner,
    quota_problem,
)
from filters.validation import FIELDS
from lib.bulk import insert_rows
from lib.errors import FieldError, QuotaExceeded, ValidationFailed
from lib.refusals import ROW_ERRORS, database_words
from users.models import User, default_filter_quota
from users.services import (
    clean_destination,
    clean_snowflake,
    clean_username,
    get_or_create_discord_user,
    import_discord_accounts,
    kept_bans,
    set_destination,
)


@dataclass
class ImportOutcome:
    """What an import did, or, when `errors` is not empty, why it did nothing. Each error
    has the position of its filter in the list, or None when it is about the whole.
    `refused` holds the database's words when it refused the line (and nothing was written)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    user_created: bool = False
    errors: list[tuple[int | None, FieldError]] = field(default_factory=list)
    refused: str = ""


class _Refused(Exception):
    """Raised inside an import's transaction to undo it; the outcome holds the reasons."""


def _clean_entries(entries: list[Any], brands: BrandTable, outcome: ImportOutcome) -> list[dict]:
    """Every entry cleaned as a new filter would be; problems go to `outcome.errors`."""
    cleaned: list[dict] = []
    positions: dict[str, int] = {}
    for position, entry in enumerate(entries):
        try:
            if not isinstance(entry, dict):
                raise FieldError("", "Each filter must be a JSON object.")
            values = clean_new_filter(entry, brands, text_lists=False)
            first = positions.setdefault(values["name"].casefold(), position)
            if first != position:
                raise FieldError(
                    "name", f"filters[{first}] already has the name “{values['name']}”."
                )
            cleaned.append(values)
        except ValidationFailed as failed:
            outcome.errors.extend((position, error) for error in failed.errors)
        except FieldError as error:
            outcome.errors.append((position, error))
    return cleaned


def _write_imported(owner: User, cleaned: list[dict], outcome: ImportOutcome) -> None:
    """Inside the import's transaction: create or update each filter by name."""
    owner = lock_owner(owner)
    if owner.is_banned:
        outcome.errors.append(
            (
                None,
                FieldError("", f"{owner.username} is banned, so their filters can't be changed."),
            )
        )
        raise _Refused
    existing = {f.name.casefold(): f for f in Filter.objects.owned_by(owner)}
    try:
        check_quota(owner, sum(v["name"].casefold() not in existing for v in cleaned))
    except QuotaExceeded as error:
        outcome.errors.append((None, FieldError("", error.message)))
        raise _Refused from None
    for values in cleaned:
        current = existing.get(values["name"].casefold())
        if current is None:
            Filter.objects.create(owner=owner, **values)
            outcome.created += 1
        elif changed := apply_changes(current, values):
            current.save(update_fields=[*changed, "updated_at"])
            outcome.updated += 1
        else:
            outcome.unchanged += 1
    if outcome.created or outcome.updated:
        bump_index_version()


def import_user_filters(owner: User, entries: list[Any], brands: BrandTable) -> ImportOutcome:
    """Create or update the owner's filters by name, all or none; filters not listed are
    left alone.

    Running the same entries twice changes nothing. When any entry is wrong, or the
    new ones would not fit the quota, nothing is written and every problem is reported.
    """
    outcome = ImportOutcome()
    cleaned = _clean_entries(entries, brands, outcome)
    if outcome.errors:
        return outcome
    try:
        with transaction.atomic():
            _write_imported(owner, cleaned, outcome)
    except _Refused:
        outcome.created = outcome.updated = outcome.unchanged = 0
    return outcome


@dataclass(frozen=True)
class UserLine:
    """One user of an import as read, unchecked: Discord id, username, destination
    (kind, channel id, guild id) and filter entries."""

    discord_id: Any
    username: Any
    destination: tuple[Any, Any, Any]
    entries: list[Any]


@dataclass
class _CheckedLine:
    """A user line that passed every check made without the database, cleaned."""

    position: int
    line: UserLine
    discord_id: str
    username: str
    destination: tuple[str, str, str]
    filters: list[dict]


def _check_line(
    position: int, line: UserLine, brands: BrandTable, outcome: ImportOutcome
) -> _CheckedLine | None:
    """The line cleaned, or None with every problem of its user fields and filters in
    `outcome.errors`."""
    cleaned: dict[str, Any] = {}
    for name, check in (
        ("discord_id", lambda: clean_snowflake("discord_id", line.discord_id)),
        ("username", lambda: clean_username(line.username)),
        ("destination", lambda: clean_destination(*line.destination)),
    ):
        try:
            cleaned[name] = check()
        except FieldError as error:
            outcome.errors.append((None, error))
    filters = _clean_entries(line.entries, brands, outcome)
    if outcome.errors:
        return None
    return _CheckedLine(position, line, filters=filters, **cleaned)


def _banned_line(user: User) -> FieldError:
    message = f"{user.username} is banned, so their destination and filters can't be changed."
    return FieldError("discord_id", message)


def import_discord_user(
    discord_id: Any,
    username: Any,
    destination: tuple[Any, Any, Any],
    entries: list[Any],
    brands: BrandTable,
) -> ImportOutcome:
    """One user of an import: their account, destination and filters, all or nothing.

    A line with any problem changes nothing, not even the account: every problem
    of the user fields and of each filter is reported at once.
    """
    outcome = ImportOutcome()
    line = UserLine(discord_id, username, destination, entries)
    checked = _check_line(0, line, brands, outcome)
    if checked is None:
        return outcome
    try:
        with transaction.atomic():
            user, outcome.user_created = get_or_create_discord_user(discord_id, username)
            if user.is_banned:
                outcome.errors.append((None, _banned_line(user)))
                raise _Refused
            set_destination(user, *destination)
            _write_imported(user, checked.filters, outcome)
    except _Refused:
        outcome.created = outcome.updated = outcome.unchanged = 0
        outcome.user_created = False
    return outcome


# Users written in one transaction at most: their ids fit in one query's parameters.
MAX_RUN = 500


def import_discord_users(lines: Sequence[UserLine], brands: BrandTable) -> list[ImportOutcome]:
    """`import_discord_user` for each line in turn, in a few queries for them all: the
    same outcomes, the same rows, each line still all or nothing.

    Every line is checked in Python first. The lines that pass are written in runs
    of up to MAX_RUN users that hold each Discord id once (a repeated id starts the
    next run, which then sees what the first line wrote), one transaction a run, and
    the filter index is marked stale once a run. When the database refuses a run
    (for one line's sake, such as a username another account already holds), the
    run is imported again line by line, so only the guilty line is refused.
    """
    outcomes = [ImportOutcome() for _ in lines]
    run: dict[str, _CheckedLine] = {}
    for position, line in enumerate(lines):
        checked = _check_line(position, line, brands, outcomes[position])
        if checked is None:
            continue
        if checked.discord_id in run or len(run) >= MAX_RUN:
            _import_run(list(run.values()), outcomes, brands)
            run.clear()
        run[checked.discord_id] = checked
    if run:
        _import_run(list(run.values()), outcomes, brands)
    return outcomes


def _import_run(run: list[_CheckedLine], outcomes: list[ImportOutcome], brands: BrandTable) -> None:
    try:
        with transaction.atomic():
            written = _write_run(run)
    except ROW_ERRORS:
        for checked in run:
            outcomes[checked.position] = _import_alone(checked.line, brands)
        return
    for checked, outcome in zip(run, written, strict=True):
        outcomes[checked.position] = outcome


def _import_alone(line: UserLine, brands: BrandTable) -> ImportOutcome:
    try:
        return import_discord_user(
            line.discord_id, line.username, line.destination, line.entries, brands
        )
    except ROW_ERRORS as error:
        return ImportOutcome(refused=database_words(error))


def _write_run(run: list[_CheckedLine]) -> list[ImportOutcome]:
    """Inside the run's transaction: the accounts, destinations and filters of lines that
    each name a different Discord id, with the outcome of each line."""
    # Locked as lock_owner() locks one owner: the quota is checked against what is stored.
    known: dict[str, User] = {
        user.discord_id: user  # type: ignore[misc]  # discord_id__in: never None here
        for user in User.objects.select_for_update().filter(
            discord_id__in=[checked.discord_id for checked in run]
        )
    }
    # Their filters by name as plain values (model instances cost more than the query), and
    # how many each has (two names may fold to one key).
    stored: dict[int, dict[str, dict]] = defaultdict(dict)
    counts: dict[int, int] = defaultdict(int)
    rows = Filter.objects.filter(owner__in=[user.pk for user in known.values()])
    for existing in rows.values("id", "owner_id", *FIELDS):
        stored[existing["owner_id"]][existing["name"].casefold()] = existing
        counts[existing["owner_id"]] += 1
    banned_before = kept_bans(
        [checked.discord_id for checked in run if checked.discord_id not in known]
    )
    outcomes = [ImportOutcome() for _ in run]
    accepted: list[tuple[_CheckedLine, ImportOutcome]] = []
    for checked, outcome in zip(run, outcomes, strict=True):
        user = known.get(checked.discord_id)
        if user is not None and user.is_banned:
            outcome.errors.append((None, _banned_line(user)))
            continue
        if checked.discord_id in banned_before:
            message = f"Discord id {checked.discord_id} is banned, so no account is made for it."
            outcome.errors.append((None, FieldError("discord_id", message)))
            continue
        existing = stored[user.pk] if user is not None else {}
        count = counts[user.pk] if user is not None else 0
        quota = user.filter_quota if user is not None else default_filter_quota()
        adding = sum(values["name"].casefold() not in existing for values in checked.filters)
        if problem := quota_problem(count, quota, adding):
            outcome.errors.append((None, FieldError("", problem)))
            continue
        accepted.append((checked, outcome))
    accounts = import_discord_accounts(
        [(checked.discord_id, checked.username, checked.destination) for checked, _ in accepted],
        known,
    )
    new: list[tuple[int, dict]] = []
    changed: list[tuple[int, dict]] = []
    for (checked, outcome), (user, created) in zip(accepted, accounts, strict=True):
        outcome.user_created = created
        existing = {} if created else stored[user.pk]
        for values in checked.filters:  # each with every field of FIELDS
            current = existing.get(values["name"].casefold())
            if current is None:
                new.append((user.pk, values))
                outcome.created += 1
            elif any(current[name] != values[name] for name in FIELDS):
                changed.append((current["id"], values))
                outcome.updated += 1
            else:
                outcome.unchanged += 1
    _store_filters(new, changed, timezone.now())
    if new or changed:
        bump_index_version()
    return outcomes


_JSON_FIELDS = {name for name in FIELDS if isinstance(Filter._meta.get_field(name), JSONField)}


def _store_filters(
    new: list[tuple[int, dict]], changed: list[tuple[int, dict]], now: datetime
) -> None:
    """INSERT the new filters (owner id, values) and UPDATE the changed ones (id, values)
    from plain values, as the ORM would write them; `updated_at` is set here, as
    auto_now would (the index patcher finds edits by it).

    bulk_create spends ten times longer preparing each value than the database takes to
    write it, and bulk_update's CASE expressions about a millisecond a field a row: far
    too slow for an import of 100,000 filters. New filters go in through COPY on
    PostgreSQL (as the outbox's alerts do), one prepared INSERT elsewhere (lib.bulk).
    """
    quote = connection.ops.quote_name
    table = quote(Filter._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(now)
    # JSON as text, which both databases take for a JSON column. The same lists recur
    # (no exclusions, all markets, a popular brand): each is encoded once.
    encoded: dict[tuple, str] = {}

    def plain(values: Mapping[str, Any]) -> list[Any]:
        row = []
        for name in FIELDS:
            value = values[name]
            if name in _JSON_FIELDS:
                key = tuple(value)
                if key not in encoded:
                    encoded[key] = json.dumps(value)  # as JSONField writes it
                value = encoded[key]
            row.append(value)
        return row

    # FIELDS are concrete fields, each with its column.
    columns = [
        quote(Filter._meta.get_field(name).column)  # type: ignore[union-attr, arg-type]
        for name in FIELDS
    ]
    if new:
        insert_rows(
            table,
            [quote("owner_id"), *columns, quote("created_at"), quote("updated_at")],
            ([owner_id, *plain(values), stamp, stamp] for owner_id, values in new),
        )
    with connection.cursor() as cursor:
        if changed:
            assignments = ", ".join(f"{column} = %s" for column in [*columns, quote("updated_at")])
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {quote('id')} = %s",
                [[*plain(values), stamp, filter_id] for filter_id, values in changed],
            )
