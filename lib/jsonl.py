"""Reading JSON Lines input where one bad line must never stop the good ones."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LineError:
    """What is wrong with one input line, printed as `line N: field: problem`."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return (
            f"line {self.line}: {self.field}: {self.message}"
            if self.field
            else f"line {self.line}: {self.message}"
        )


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
    """Yield (line number, object) per non-blank line, or a LineError when it isn't a JSON object."""
    with open(path, encoding="utf-8-sig") as handle:
        yield from jsonl_objects(handle)


def jsonl_objects(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
    """The same, for lines from anywhere (a file, an HTTP body)."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            yield (
                number,
                LineError(number, "", f"not valid JSON ({error.msg} at column {error.colno})"),
            )
            continue
        if not isinstance(value, dict):
            yield number, LineError(number, "", "expected a JSON object")
            continue
        yield number, value


def count_lines(path: str | Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())
