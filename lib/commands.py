"""A base for management commands that read a JSON Lines file (or a pipe) with a progress bar."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator
from typing import BinaryIO

from django.core.management.base import BaseCommand, CommandError

from lib.jsonl import STDIN_NAMES, Item, count_lines, jsonl_objects
from lib.progress import progress_bar


def _open(path: str) -> tuple[contextlib.AbstractContextManager[BinaryIO], int | None]:
    """The input stream and its line count, when it can be counted without consuming it:
    a pipe or a terminal is read once, so its progress bar has no total."""
    if path in STDIN_NAMES:
        return contextlib.nullcontext(sys.stdin.buffer), None
    handle = open(path, "rb")  # noqa: SIM115 - returned to the caller's with block
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        return handle, None
    return handle, count_lines(handle)


class JsonLinesCommand(BaseCommand):
    #: What one line holds, for --help and the progress bar's unit.
    line_help = "one JSON object a line"
    unit = "line"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "file", help=f"JSON Lines, {self.line_help}; - (or /dev/stdin) reads standard input"
        )

    def lines(self, path: str) -> Iterator[tuple[int, Item]]:
        """Each non-blank line's number and object (or its LineError), with a progress bar."""
        try:
            stream, total = _open(path)
        except OSError as error:
            raise CommandError(f"can't read {path}: {error.strerror}") from None
        with stream as handle, progress_bar(total, self.unit) as bar:
            for number, item in jsonl_objects(handle):
                bar.update(number - bar.n)
                yield number, item
