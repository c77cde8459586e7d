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
