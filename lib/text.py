"""What text may hold, defined once: control characters refused, invisible characters seen through.

Used by matching's normalization (filters/text.py), filter and user validation,
and listing records. Also counted nouns (`1 alert`, `2 alerts`) for summaries, and
text cut to a length with an ellipsis.
"""

from __future__ import annotations

import re

# Every format character (Unicode category Cf) and the other default-ignorable code
# points: nothing a reader sees, so nothing matching may depend on. Two patterns
# because a class of BMP characters only compiles to a fast bitmap; the astral ones
# (tags, some format marks) are looked for only in text that has astral characters at
# all, which most titles don't.
_INVISIBLE_BMP = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160"
    "\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb]"
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_INVISIBLE_ASTRAL = re.compile(
    "[\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
# C0 controls other than tab, line feed and carriage return (white space, tidied away),
# DEL and the C1 controls.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Lone surrogates are not characters at all: no database text column can store them.
_FORBIDDEN = re.compile(f"[{_CONTROLS}\ud800-\udfff]")
# The bidi controls, which can make text read as something else.
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_invisible(text: str) -> str:
    """The text without its invisible characters: what a reader sees."""
    text = _INVISIBLE_BMP.sub("", text)
    if _ASTRAL.search(text):
        text = _INVISIBLE_ASTRAL.sub("", text)
    return text


def is_invisible(text: str) -> bool:
    """True when nothing in `text` shows: only white space and invisible characters, such as
    U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER, U+FEFF, U+00AD SOFT HYPHEN and bidi controls."""
    return not strip_invisible(text).strip()


def describe_character(char: str) -> str:
    """`U+001B` (control characters have no Unicode name worth showing)."""
    return f"U+{ord(char):04X}"


def forbidden_character(text: str) -> tuple[int, str] | None:
    """The first control character or lone surrogate in `text` and its 1-based position, if any."""
    match = _FORBIDDEN.search(text)
    return (match.start() + 1, match.group()) if match else None


def refused_character(text: str) -> str:
    """Why `text` may not be a name or a term ("" when it may): it holds a control character, a
    lone surrogate or a bidi control, named with its code point."""
    if found := forbidden_character(text):
        return f"a control character ({describe_character(found[1])})"
    if bidi := _BIDI_CONTROLS.search(text):
        return f"a text-direction control ({describe_character(bidi.group())})"
    return ""


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """`1 alert`, `2 alerts`, `1,500 listings`; `plural` for nouns that don't just take an s."""
    return f"{count:,} {singular if count == 1 else plural or singular + 's'}"


def cut(text: str, length: int) -> str:
    """`text` when it has at most `length` characters, else its first `length - 1` and "…"."""
    return text if len(text) <= length else text[: length - 1] + "…"
