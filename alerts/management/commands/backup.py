"""`manage.py backup FILE`: a consistent snapshot of the default database, written atomically.

It lives in alerts because the outbox is what a restore must bring back: the pending alerts
with their nonces, so a sender on the restored database posts each of them once
(tests/alerts/test_backup_restore.py drills it). The work is in lib/backup.py.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lib import backup


class Command(BaseCommand):
    help = (
        "Write a snapshot of the database to FILE (pg_dump's custom format on PostgreSQL, "
        "a copy made with SQLite's backup API on SQLite); restore reads it back."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="where to write the backup (FILE.tmp, then renamed)")

    def handle(self, *args, file: str, **options) -> None:
        try:
            done = backup.backup(Path(file))
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"backed up {done.engine} database {done.name} to {file} "
            f"({done.megabytes:.1f} MB) in {done.seconds:.1f} s"
        )
