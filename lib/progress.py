"""Progress for long commands: a bar on a terminal, nothing in logs and pipes."""

from __future__ import annotations

import sys
from io import TextIOBase
from typing import TextIO

from tqdm import tqdm


def progress_bar(total: int | None, unit: str, stream: TextIO | TextIOBase | None = None) -> tqdm:
    stream = stream or sys.stderr
    return tqdm(total=total, unit=unit, file=stream, disable=not stream.isatty())
