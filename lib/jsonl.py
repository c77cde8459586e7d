"""Reading JSON Lines input where one bad line must never stop the good ones.

A line ends at "\\n" only: the "\\r" of a CRLF file is dropped, but a carriage
return anywhere else is data (inside a JSON string it is an unescaped control
character, and that line alone is refused). Each line is decoded and parsed on
its own, and whatever is wrong with it becomes a `LineError` for that line:
bytes that are not UTF-8, a line over `MAX_LINE_BYTES` (skipped without being
held in memory), broken or cut-off JSON, nesting too deep, a number hundreds of
digits long, or text no database can store (NUL, lone surrogates). A byte order
mark is allowed at the start of the first line only.
"""

from __future__ import annotations

import io
import json
import math
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

#: Far above any real listing or user line (a few hundred bytes to a few KB), and small
#: enough that a runaway line costs a bounded amount of memory.
MAX_LINE_BYTES = 64 * 1024
#: The longest number token accepted: 17 significant digits is all a float keeps.
MAX_NUMBER_CHARS = 40
STDIN_NAMES = ("-", "/dev/stdin")

_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 20
_JSON_WORDS = {
    "Expecting value": "expected a value",
    "Expecting ',' delimiter": "expected a ','",
    "Expecting ':' delimiter": "expected a ':'",
    "Expecting property name enclosed in double quotes": 'expected a "quoted" property name',
    "Extra data": "more text after the end of the JSON value",
    "Invalid \\escape": "an unknown \\ escape",
    "Invalid \\uXXXX escape": "a \\u escape without four hex digits",
}


@dataclass(frozen=True)
class LineError:
    """What is wrong with one input line, printed as `line N: field: problem`."""

    line: int
    field: str
    message: str

    @property
    def detail(self) -> str:
        """`field: problem` (or just the problem), for messages that name the line themselves."""
        return f"{self.field}: {self.message}" if self.field else self.message

    def __str__(self) -> str:
        return f"line {self.line}: {self.detail}"


Item = dict[str, Any] | LineError


class _Unusable:
    """Stands in, while decoding, for a number or constant the line may not hold; found
    afterwards with its field's name."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        _seen.unusable = True


def _parse_int(token: str) -> int | _Unusable:
    if len(token) > MAX_NUMBER_CHARS:
        return _Unusable(f"is a number {len(token.lstrip('-')):,} digits long")
    return int(token)


def _parse_float(token: str) -> float | _Unusable:
    if len(token) > MAX_NUMBER_CHARS:
        return _Unusable(f"is a number {len(token):,} characters long")
    value = float(token)
    if not math.isfinite(value):
        return _Unusable(f"is a number too large to use ({token})")
    return value


def _parse_constant(name: str) -> _Unusable:
    return _Unusable(f"is {name}, which is not a JSON value")


_decoder = json.JSONDecoder(
    parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
)
_SURROGATE = re.compile("[\ud800-\udfff]")
# A line can only hold a NUL or a lone surrogate through its escape (raw, they fail
# as JSON or as UTF-8): only lines with such an escape, or where a parse hook made
# an _Unusable (noted per thread), are walked, which keeps plain lines fast.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_seen = threading.local()


def read_lines(
    stream: BinaryIO, max_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, bytes | int]]:
    """(line number, the line's bytes without its line end) for every line; for a line longer
    than `max_bytes`, its length in bytes instead (the rest of it is read and dropped)."""
    number = 0
    while True:
        raw = stream.readline(max_bytes + 2)  # room for "\r\n"
        if not raw:
            return
        number += 1
        if raw.endswith(b"\n") or len(raw) < max_bytes + 2:  # the whole line (or the last)
            line = raw[:-2] if raw.endswith(b"\r\n") else raw.removesuffix(b"\n")
            yield number, (len(line) if len(line) > max_bytes else line)
            continue
        length = len(raw)
        while more := stream.readline(_CHUNK):
            length += len(more)
            if more.endswith(b"\n"):
                length -= 1
                break
        yield number, length


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number"


def _json_problem(error: Any, text: str) -> str:
    end = len(text.rstrip(" \t\r"))
    if error.msg.startswith("Unterminated string") or error.pos >= end:
        what = {"{": "JSON object", "[": "JSON array"}.get(text.lstrip()[:1], "JSON value")
        return f"the line ends before the {what} does (cut off?)"
    if error.msg.startswith("Invalid control character"):
        code = f"U+{ord(text[error.pos]):04X}"
        return (
            f"not valid JSON: a raw control character ({code}) inside a string "
            f"at column {error.colno}; JSON needs it written as an escape"
        )
    words = error.msg.removesuffix(" at")
    words = _JSON_WORDS.get(words, words[:1].lower() + words[1:])
    return f"not valid JSON: {words} at column {error.colno}"


def _unusable(value: Any) -> tuple[str, str] | None:
    """The first string (or key) holding NUL or a lone surrogate, or the first unusable
    number: (its field, the problem)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, _Unusable):
            return path, item.problem
        if isinstance(item, str):
            if "\x00" in item:
                return path, "contains U+0000 (NUL), which text can't hold"
            if surrogate := _SURROGATE.search(item):
                code = f"U+{ord(surrogate.group()):04X}"
                return path, f"contains a lone surrogate ({code}), which is not a character"
        elif isinstance(item, dict):
            for key, inner in item.items():
                stack.append((path, key))
                stack.append((f"{path}.{key}" if path else key, inner))
        elif isinstance(item, list):
            stack.extend((f"{path}[{n}]", inner) for n, inner in enumerate(item))
    return None


def parse_line(number: int, raw: bytes) -> Item | None:
    """One line's object, its LineError, or None for a blank line."""
    if number == 1 and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    if not raw.strip(b" \t\r"):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        column = len(raw[: error.start].decode("utf-8", "replace")) + 1
        return LineError(
            number, "", f"is not UTF-8 text (byte 0x{raw[error.start]:02X} at column {column})"
        )
    if text.startswith("\ufeff"):
        return LineError(
            number, "", "starts with a byte order mark (U+FEFF); only the first line may"
        )
    _seen.unusable = False
    try:
        value = _decoder.decode(text)
    except RecursionError:
        return LineError(number, "", "nests arrays or objects too deeply")
    except ValueError as error:  # JSONDecodeError, and any conversion the hooks let through
        if hasattr(error, "pos"):
            return LineError(number, "", _json_problem(error, text))
        return LineError(number, "", f"can't be read ({error})")
    suspect = _seen.unusable or ("\\u" in text and _SUSPECT_ESCAPE.search(text))
    found = _unusable(value) if suspect else None
    if found:
        return LineError(number, *found)
    if not isinstance(value, dict):
        return LineError(number, "", f"must be a JSON object {{…}}, not {_kind(value)}")
    return value


def jsonl_objects(
    stream: BinaryIO, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, Item]]:
    """(line number, object or LineError) for every non-blank line of a binary stream."""
    for number, raw in read_lines(stream, max_line_bytes):
        if isinstance(raw, int):
            yield (
                number,
                LineError(
                    number, "", f"is {raw:,} bytes long; a line may be at most {max_line_bytes:,}"
                ),
            )
            continue
        item = parse_line(number, raw)
        if item is not None:
            yield number, item


def parse_jsonl(
    body: bytes | str, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, Item]]:
    """The same for a whole body in memory (an HTTP response, a test's text)."""
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")  # a lone surrogate is then refused by line
    return jsonl_objects(io.BytesIO(body), max_line_bytes)


def read_jsonl(path: str | Path) -> Iterator[tuple[int, Item]]:
    """The same for a file; `-` or `/dev/stdin` read standard input (a pipe is read once)."""
    if str(path) in STDIN_NAMES:
        yield from jsonl_objects(sys.stdin.buffer)
        return
    with open(path, "rb") as handle:
        yield from jsonl_objects(handle)


def count_lines(handle: BinaryIO) -> int:
    """Lines in a seekable file, read in chunks (a huge line is never held whole); rewinds it."""
    lines, last = 0, b"\n"
    while chunk := handle.read(_CHUNK):
        lines += chunk.count(b"\n")
        last = chunk[-1:]
    handle.seek(0)
    return lines + (last != b"\n")
