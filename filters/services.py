"""Every write to filters: validate, check ownership and quota, write, mark the index stale.

Writes that add filters lock the owner's row first (lock_owner), so the quota is
checked once, inside the transaction, against what is stored.

Doors (web, API, bot, admin, imports) call these and show their errors as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from filters.brands import BrandTable
from filters.matching import bump_index_version
from filters.models import Filter
from filters.validation import FIELDS, check_whole_filter, clean_filter_fields
from lib.errors import FieldError, NotFound, QuotaExceeded, ValidationFailed
from users.models import User
from users.services import (
    check_not_banned,
    clean_destination,
    clean_snowflake,
    clean_username,
    get_or_create_discord_user,
    set_destination,
)


def _check_not_banned(user: User) -> None:
    check_not_banned(user, "your filters can't be changed")


def _name_taken(name: str) -> ValidationFailed:
    return ValidationFailed([FieldError("name", f"You already have a filter named “{name}”.")])


def _check_name_free(owner: User, name: str, exclude_id: int | None = None) -> None:
    others = Filter.objects.owned_by(owner).filter(name__iexact=name)
    if exclude_id is not None:
        others = others.exclude(pk=exclude_id)
    if others.exists():
        raise _name_taken(name)


def lock_owner(owner: User) -> User:
    """The owner's row, locked until the transaction ends, read afresh.

    Every write that adds filters takes this lock first, so two of them for one user
    run one after the other and the quota is checked against what is really stored.
    (SQLite takes its single write lock at BEGIN, which serializes them as well.)
    """
    return User.objects.select_for_update().get(pk=owner.pk)


def check_quota(owner: User, adding: int = 1) -> None:
    """The quota rule, in one place. Call it inside the write's transaction, after
    lock_owner(), with the number of filters the write adds."""
    count = Filter.objects.owned_by(owner).count()
    quota = owner.filter_quota
    if count + adding <= quota:
        return
    if adding == 1:
        raise QuotaExceeded(
            f"You have {count} of your {quota} filters; delete one to make room for another."
        )
    raise QuotaExceeded(
        f"{count} filters are stored and {adding} would be added, over the quota of {quota}."
    )


def access_filter(actor: User, filter_id: int) -> Filter:
    """The actor's own filter, or NotFound (also when it belongs to somebody else)."""
    try:
        return Filter.objects.owned_by(actor).get(pk=filter_id)
    except (Filter.DoesNotExist, ValueError, TypeError):
        raise NotFound("No filter of yours has that id.") from None


def access_filter_by_name(actor: User, name: str) -> Filter:
    found = Filter.objects.owned_by(actor).filter(name__iexact=" ".join(str(name).split())).first()
    if found is None:
        raise NotFound(f"You have no filter named “{name}”.")
    return found


def _clean_new_filter(
    data: Mapping[str, Any], brands: BrandTable, *, text_lists: bool = True
) -> dict[str, Any]:
    """The full set of values for a new filter: the given fields over the defaults."""
    values = {
        "brands": [],
        "keywords": [],
        "exclude": [],
        "price_min": None,
        "price_max": None,
        "markets": [],
        "active": True,
    }
    values.update(clean_filter_fields(data, brands, text_lists=text_lists))
    if "name" not in values:
        raise ValidationFailed([FieldError("name", "Give the filter a name.")])
    check_whole_filter(values)
    return values


def create_filter(
    owner: User,
    data: Mapping[str, Any],
    brands: BrandTable | None = None,
    *,
    text_lists: bool = True,
) -> Filter:
    """`text_lists=False` for JSON doors (the API): a list given as text is refused."""
    _check_not_banned(owner)
    values = _clean_new_filter(data, brands or BrandTable.load(), text_lists=text_lists)
    try:
        with transaction.atomic():
            owner = lock_owner(owner)
            _check_not_banned(owner)  # banned since the caller's row was read
            _check_name_free(owner, values["name"])
            check_quota(owner)
            new = Filter.objects.create(owner=owner, **values)
            bump_index_version()
    except IntegrityError:
        raise _name_taken(values["name"]) from None
    return new


def _apply(existing: Filter, values: Mapping[str, Any]) -> list[str]:
    """Set the changed fields on the filter; return their names."""
    changed = [key for key, value in values.items() if getattr(existing, key) != value]
    for key in changed:
        setattr(existing, key, values[key])
    return changed


def _save_changes(existing: Filter, changed: list[str]) -> Filter:
    if not changed:
        return existing
    try:
        with transaction.atomic():
            existing.save(update_fields=[*changed, "updated_at"])
            bump_index_version()
    except IntegrityError:
        raise _name_taken(existing.name) from None
    return existing


def update_filter(
    actor: User, filter_id: int, data: Mapping[str, Any], *, text_lists: bool = True
) -> Filter:
    """Change only the fields given in `data` (`text_lists` as for create_filter)."""
    _check_not_banned(actor)
    existing = access_filter(actor, filter_id)
    values = clean_filter_fields(data, BrandTable.load(), text_lists=text_lists)
    merged = {key: values.get(key, getattr(existing, key)) for key in FIELDS}
    check_whole_filter(merged)
    if "name" in values:
        _check_name_free(actor, values["name"], exclude_id=existing.pk)
    return _save_changes(existing, _apply(existing, values))


def set_filter_active(actor: User, filter_id: int, active: bool) -> Filter:
    return update_filter(actor, filter_id, {"active": active})


def delete_filter(actor: User, filter_id: int) -> None:
    _check_not_banned(actor)
    existing = access_filter(actor, filter_id)
    with transaction.atomic():
        existing.delete()
        bump_index_version()


def deactivate_filters(filter_ids: list[int]) -> int:
    """Moderation: switch filters off whoever owns them. Returns how many changed."""
    with transaction.atomic():
        # Bulk updates must set updated_at themselves: the index patcher finds edits by it.
        changed = Filter.objects.filter(pk__in=filter_ids, active=True).update(
            active=False, updated_at=timezone.now()
        )
        if changed:
            bump_index_version()
    return changed


@dataclass
class ImportOutcome:
    """What an import did, or, when `errors` is not empty, why it did nothing. Each error
    has the position of its filter in the list, or None when it is about the whole."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    user_created: bool = False
    errors: list[tuple[int | None, FieldError]] = field(default_factory=list)


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
            values = _clean_new_filter(entry, brands, text_lists=False)
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
        elif changed := _apply(current, values):
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
    for check in (
        lambda: clean_snowflake("discord_id", discord_id),
        lambda: clean_username(username),
        lambda: clean_destination(*destination),
    ):
        try:
            check()
        except FieldError as error:
            outcome.errors.append((None, error))
    cleaned = _clean_entries(entries, brands, outcome)
    if outcome.errors:
        return outcome
    try:
        with transaction.atomic():
            user, outcome.user_created = get_or_create_discord_user(discord_id, username)
            if user.is_banned:
                message = (
                    f"{user.username} is banned, so their destination and filters can't be changed."
                )
                outcome.errors.append((None, FieldError("discord_id", message)))
                raise _Refused
            set_destination(user, *destination)
            _write_imported(user, cleaned, outcome)
    except _Refused:
        outcome.created = outcome.updated = outcome.unchanged = 0
        outcome.user_created = False
    return outcome
