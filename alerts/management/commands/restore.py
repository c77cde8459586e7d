"""`manage.py restore FILE`: bring a `manage.py backup` file back into the default database.

It lives in alerts because the outbox is what a restore must bring back: the pending alerts
with their nonces, so a sender on the restored database posts each of them once
(tests/alerts/test_backup_restore.py drills it). The database is created when missing; one
that holds data is replaced only with --force. The work is in lib/backup.py.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lib import backup


class Command(BaseCommand):
    help = (
        "Restore a backup written by `manage.py backup` into the database, creating it when "
        "it does not exist; --force replaces a database that holds data."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="a backup written by `manage.py backup`")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a database that holds data (PostgreSQL: pg_restore --clean --if-exists)",
        )

    def handle(self, *args, file: str, force: bool = False, **options) -> None:
        try:
            done = backup.restore(Path(file), force=force)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        into = "new database" if done.created else "database"
        self.stdout.write(
            f"restored {done.engine} {into} {done.name} from {file} "
            f"({done.megabytes:.1f} MB) in {done.seconds:.1f} s"
        )
