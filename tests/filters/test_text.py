"""The normalization and word-edge rules every matcher shares."""

import pytest

from filters.text import normalize, occurs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("COMME des GARÇONS", "comme des garcons"),
        ("ﾘｯｸｵｳｴﾝｽ", "リックオウエンス"),  # half-width katakana become full-width
        ("ﾖｳｼﾞﾔﾏﾓﾄ", "ヨウジヤマモト"),  # half-width voicing mark joins its kana
        ("ヨウジ・ヤマモト", "ヨウジヤマモト"),
        ("ﾖｳｼﾞ･ﾔﾏﾓﾄ", "ヨウジヤマモト"),
        ("ＲＩＣＫ　ＯＷＥＮＳ", "rick owens"),  # full-width letters and the ideographic space
        ("  Maison\t\nMargiela  ", "maison margiela"),
        ("HOMME PLISSÉ", "homme plisse"),
        ("Straße", "strasse"),  # casefold, not lower
        ("ガ ギ パ ポ", "ガ ギ パ ポ"),  # Japanese voicing marks stay
        ("", ""),
    ],
)
def test_it_normalizes(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("term", "text", "found"),
    [
        ("coat", "Long COAT", True),
        ("coat", "coated denim", False),
        ("coat", "raincoat", False),
        ("coat", "coat-front", True),  # punctuation is an edge
        ("coat", "コートcoat", True),  # a Japanese neighbour is an edge for an ASCII end
        ("コート", "ロングコート", True),  # no edges inside Japanese
        ("cdg", "CDG×NIKE", True),
        ("cdg", "abcdg", False),
        ("42", "サイズ42", True),
        ("42", "420", False),
        ("n1", "vintage N1 deck", True),
        ("rick owens", "rick  owens", True),  # both sides normalized
        ("-x", "a-x", True),  # an end that is not a letter or digit has no edge rule
        ("coat", "coated coat", True),  # a later occurrence can satisfy the rule
    ],
)
def test_it_finds_terms_on_word_edges(term, text, found):
    assert occurs(normalize(term), normalize(text)) is found


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("co\u200bat", "coat"),  # zero-width space
        ("\ufeffRick\u2060 Owens", "rick owens"),  # byte order mark, word joiner
        ("soft\u00adshell", "softshell"),  # soft hyphen
        ("sa\u200c\u200dcai", "sacai"),  # zero-width (non-)joiners
        ("❤\ufe0f sacai", "❤ sacai"),  # variation selector
        ("\u202ekapital\u202c", "kapital"),  # a bidi override is stripped for matching
        ("tag\U000e0041\U000e007f", "tag"),  # tag characters
        ("\u3164", ""),  # the Hangul filler, often used as an "empty" name
        ("e\u200b\u0301", "e"),  # an accent split from its letter still goes with it
    ],
)
def test_it_strips_invisible_characters(raw, expected):
    assert normalize(raw) == expected


def test_every_format_character_is_stripped():
    """Unicode category Cf in full, as this Python knows it: nothing invisible survives."""
    import sys
    import unicodedata

    format_characters = [
        chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"
    ]
    assert len(format_characters) > 150
    assert normalize("a" + "".join(format_characters) + "b") == "ab"


@pytest.mark.parametrize(
    ("term", "text", "found"),
    [
        ("coat", "long co\u200bat", True),  # a hidden character does not hide the word
        ("coat", "coat\u200bed", False),  # nor does it make a word edge
        ("rick owens", "RICK\u2060 OWENS", True),
    ],
)
def test_terms_occur_whatever_invisible_characters_the_title_holds(term, text, found):
    assert occurs(normalize(term), normalize(text)) is found
