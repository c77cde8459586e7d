"""Text normalization and the term-occurrence rules shared by every matcher: `normalize()`,
`occurs()` and `occurs_as_brand()`, as docs/architecture.md (Matching rules) states them.
"""

from __future__ import annotations

import re
import unicodedata

from lib.text import strip_invisible

_LATIN_COMBINING_MARKS = re.compile("[\u0300-\u036f]")
_MIDDLE_DOTS = str.maketrans("", "", "・･")
_WHITESPACE = re.compile(r"\s+")
# What after a brand's name makes it a style reference ("リックオウエンス風 ブーツ": boots in
# the style of, not by, Rick Owens): Japanese suffixes, or an English word, after optional
# spaces. "like new" describes the item's condition, not a style.
_STYLE_REFERENCE = re.compile(
    r" ?(?:風|系|タイプ|っぽい|ライク|インスパイア|オマージュ|(?:style|inspired|like)(?![a-z0-9])(?! new\b))"
)


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


def is_style_reference(text: str, end: int) -> bool:
    """Whether what follows position `end` of the normalized `text` makes the word before
    it a style reference (風, 系, タイプ, っぽい, ライク, インスパイア, オマージュ, style,
    inspired, like)."""
    return _STYLE_REFERENCE.match(text, end) is not None


def occurs_as_brand(term: str, text: str) -> bool:
    """Whether the normalized brand spelling `term` occurs in `text` at least once as the
    brand itself, not as a style reference."""
    if not term:
        return False
    start = text.find(term)
    while start != -1:
        if occurs_at(term, text, start) and not is_style_reference(text, start + len(term)):
            return True
        start = text.find(term, start + 1)
    return False
