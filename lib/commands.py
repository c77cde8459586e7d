"""A base for management commands that read a JSON Lines file with a progress bar."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from lib.jsonl import LineError, count_lines, read_jsonl
from lib.progress import progress_bar


class JsonLinesCommand(BaseCommand):
    #: What one line holds, for --help and the progress bar's unit.
    line_help = "one JSON object a line"
    unit = "line"

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help=f"JSON Lines, {self.line_help}")

    def lines(self, path: str) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
        """Each non-blank line's number and object (or its LineError), with a progress bar."""
        try:
            total = count_lines(path)
        except OSError as error:
            raise CommandError(f"can't read {path}: {error.strerror}") from None
        with progress_bar(total, self.unit) as bar:
            for number, item in read_jsonl(path):
                bar.update(1)
                yield number, item
