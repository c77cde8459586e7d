"""When the database refuses one row of a batch: which errors mean that, and how an import
reports it.

A batch that fails for one row's sake is stored again one row at a time, so only
the guilty row is refused. A locked database or a lost connection
(OperationalError) is no row's fault: it ends the caller's work instead, so it
is not among ROW_ERRORS.
"""

from __future__ import annotations

from django.db import DataError, IntegrityError

from lib.jsonl import LineError
from lib.text import cut

ROW_ERRORS = (DataError, IntegrityError, ValueError, OverflowError)
MAX_WORDS = 200


def database_words(error: Exception) -> str:
    """The first line of what the database said, cut to MAX_WORDS characters."""
    words = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return cut(words, MAX_WORDS)


def refused_line(number: int, words: str) -> LineError:
    """An input line the database refused, in the words of every import's report."""
    return LineError(number, "", f"the database refused it: {words}")
