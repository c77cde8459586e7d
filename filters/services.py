"""Every write to filters: validate, check ownership and quota, write, mark the index stale.

Writes that add filters lock the owner's row first (lock_owner), so the quota is
checked once, inside the transaction, against what is stored.

Doors (web, API, bot, admin, imports) call these and show their errors as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from filters.brands import BrandTable
from filters.matching import bump_index_version
from filters.models import Filter
from filters.validation import DEFAULTS, FIELDS, check_whole_filter, clean_filter_fields
from lib.errors import FieldError, NotFound, QuotaExceeded, ValidationFailed
from users.models import User
from users.services import (
    check_not_banned,
)


def _check_not_banned(user: User) -> None:
    check_not_banned(user, "your filters can't be changed")


def _name_taken(name: str) -> ValidationFailed:
    return ValidationFailed([FieldError("name", f"You already have a filter named “{name}”.")])


def _check_name_free(owner: User, name: str, exclude_id: int | None = None) -> None:
    others = Filter.objects.owned_by(owner).filter(name__iexact=name)
    if exclude_id is not None:
        others = others.exclude(pk=exclude_id)
    if taken := others.first():
        raise _name_taken(taken.name)


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
    if problem := quota_problem(Filter.objects.owned_by(owner).count(), owner.filter_quota, adding):
        raise QuotaExceeded(problem)


def quota_problem(count: int, quota: int, adding: int) -> str | None:
    """Why `adding` filters do not fit beside the `count` stored, or None when they do."""
    if count + adding <= quota:
        return None
    if adding == 1:
        return f"You have {count} of your {quota} filters; delete one to make room for another."
    return f"{count} filters are stored and {adding} would be added, over the quota of {quota}."


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


def clean_new_filter(
    data: Mapping[str, Any], brands: BrandTable, *, text_lists: bool = True
) -> dict[str, Any]:
    """The full set of values for a new filter: the given fields over the defaults."""
    values: dict[str, Any] = dict(DEFAULTS)
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
    values = clean_new_filter(data, brands or BrandTable.load(), text_lists=text_lists)
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


def apply_changes(existing: Filter, values: Mapping[str, Any]) -> list[str]:
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
    return _save_changes(existing, apply_changes(existing, values))


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
