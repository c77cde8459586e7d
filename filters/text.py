"""Text normalization and the term-occurrence rule shared by every matcher: `normalize()`
and `occurs()`, as docs/architecture.md (Matching rules) states them.
"""

from __future__ import annotations

import re
import unicodedata

from lib.text import strip_invisible

_LATIN_COMBINING_MARKS = re.compile("[\u0300-\u036f]")
_MIDDLE_DOTS = str.maketrans("", "", "・･")
_WHITESPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    # Invisible characters go before NFKC, so a mark split from its letter by one still composes.
    text = unicodedata.normalize("NFKC", strip_invisible(text)).casefold()
    # NFD splits Latin letters from their accents; Japanese voiced kana split into
    # U+3099/U+309A, which lie outside the removed range and recombine under NFC.
    text = unicodedata.normalize(
        "NFC", _LATIN_COMBINING_MARKS.sub("", unicodedata.normalize("NFD", text))
    )
    text = text.translate(_MIDDLE_DOTS)
    return _WHITESPACE.sub(" ", text).strip()


def is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def occurs_at(term: str, text: str, start: int) -> bool:
    """Whether the normalized `term`, found at `start` in the normalized `text`, respects word edges."""
    end = start + len(term)
    if is_ascii_alnum(term[0]) and start > 0 and is_ascii_alnum(text[start - 1]):
        return False
    return not (is_ascii_alnum(term[-1]) and end < len(text) and is_ascii_alnum(text[end]))


def occurs(term: str, text: str) -> bool:
    """Whether the already-normalized `term` occurs in the already-normalized `text`."""
    if not term:
        return False
    start = text.find(term)
    while start != -1:
        if occurs_at(term, text, start):
            return True
        start = text.find(term, start + 1)
    return False
