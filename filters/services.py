"""Every write to filters: validate, check ownership and quota, write, mark the index stale.

Doors (web, API, bot, admin, imports) call these and show their errors as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from filters.brands import BrandTable
from filters.errors import FieldError, NotFound, QuotaExceeded, ValidationFailed
from filters.matching import bump_index_version
from filters.models import Filter
from filters.validation import FIELDS, check_whole_filter, clean_filter_fields
from users.models import User
from users.services import check_not_banned


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


def _check_quota(owner: User) -> None:
    count = Filter.objects.owned_by(owner).count()
    if count + 1 > owner.filter_quota:
        raise QuotaExceeded(
            f"You have {count} of your {owner.filter_quota} filters; delete one to make room for another."
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


def _save_new(owner: User, values: Mapping[str, Any]) -> Filter:
    try:
        with transaction.atomic():
            new = Filter.objects.create(owner=owner, **values)
            bump_index_version()
    except IntegrityError:
        raise _name_taken(values["name"]) from None
    return new


def _clean_new_filter(data: Mapping[str, Any], brands: BrandTable) -> dict[str, Any]:
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
    values.update(clean_filter_fields(data, brands))
    if "name" not in values:
        raise ValidationFailed([FieldError("name", "Give the filter a name.")])
    check_whole_filter(values)
    return values


def create_filter(owner: User, data: Mapping[str, Any], brands: BrandTable | None = None) -> Filter:
    _check_not_banned(owner)
    values = _clean_new_filter(data, brands or BrandTable.load())
    _check_name_free(owner, values["name"])
    _check_quota(owner)
    return _save_new(owner, values)


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


def update_filter(actor: User, filter_id: int, data: Mapping[str, Any]) -> Filter:
    """Change only the fields given in `data`."""
    _check_not_banned(actor)
    existing = access_filter(actor, filter_id)
    values = clean_filter_fields(data, BrandTable.load())
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
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, FieldError]] = field(default_factory=list)


def import_user_filters(owner: User, entries: list[Any], brands: BrandTable) -> ImportOutcome:
    """Create or update the owner's filters by name; filters not listed are left alone.

    Running the same entries twice changes nothing. A bad entry is reported with its
    position and does not stop the others.
    """
    outcome = ImportOutcome()
    existing = {f.name.casefold(): f for f in Filter.objects.owned_by(owner)}
    count = len(existing)
    for position, entry in enumerate(entries):
        try:
            if not isinstance(entry, dict):
                raise FieldError("", "Each filter must be a JSON object.")
            values = _clean_new_filter(entry, brands)
            current = existing.get(values["name"].casefold())
            if current is None:
                if count + 1 > owner.filter_quota:
                    raise FieldError(
                        "",
                        f"The user's quota of {owner.filter_quota} filters is full; this filter was not added.",
                    )
                existing[values["name"].casefold()] = _save_new(owner, values)
                count += 1
                outcome.created += 1
            else:
                changed = _apply(current, values)
                _save_changes(current, changed)
                if changed:
                    outcome.updated += 1
                else:
                    outcome.unchanged += 1
        except ValidationFailed as failed:
            outcome.errors.extend((position, error) for error in failed.errors)
        except FieldError as error:
            outcome.errors.append((position, error))
    return outcome
