"""Adding to a counting row that many processes may create at once (a row per hour)."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction


def add_to_row(rows: models.QuerySet, key: dict, amounts: dict[str, int]) -> None:
    """Add `amounts` to the columns of the row `key` names: an UPDATE that adds; else the
    row's INSERT; when another process inserted it first (the unique key refuses ours),
    the UPDATE again. Inside a transaction, the INSERT's failure undoes only itself."""
    added = {column: models.F(column) + amount for column, amount in amounts.items()}
    if rows.filter(**key).update(**added):
        return
    try:
        with transaction.atomic():
            rows.create(**key, **amounts)
    except IntegrityError:
        rows.filter(**key).update(**added)
