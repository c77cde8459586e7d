"""Writing many rows at once: COPY on PostgreSQL, one prepared INSERT elsewhere (SQLite).

Model instances and bulk_create cost more than the writes themselves at import sizes;
both paths here take plain values already prepared for the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Insert `rows` into `table` (quoted names); a refusal raises Django's database errors."""
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY goes straight to the driver: Django's error wrapper is put back around it,
            # so callers catch IntegrityError and DatabaseError as from any query.
            copying = cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN")
            with connection.wrap_database_errors, copying as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            # Django's executemany takes any iterable of rows; its stubs ask for a Sequence.
            sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"
            cursor.executemany(sql, rows)  # type: ignore[arg-type]
