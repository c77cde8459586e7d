"""Invisible and control characters, and counted nouns."""

from __future__ import annotations

from lib.text import counted, forbidden_character, is_invisible


def test_invisible_text_is_white_space_and_format_characters_only():
    assert is_invisible("\u200b\u2060\ufeff\u00ad\u202e\u2066 \u3000\u3164")
    assert not is_invisible("\u200bsacai\u200b")
    assert not is_invisible("・")


def test_control_characters_other_than_white_space_are_found():
    assert forbidden_character("sacai\tknit\nvest\r") is None
    assert forbidden_character("ab\x1b[31m") == (3, "\x1b")
    assert forbidden_character("a\x85") == (2, "\x85")
    assert forbidden_character("a\ud800") == (2, "\ud800")


def test_counted_nouns():
    assert [counted(n, "alert") for n in (0, 1, 2, 1500)] == [
        "0 alerts",
        "1 alert",
        "2 alerts",
        "1,500 alerts",
    ]
    assert (
        counted(2, "duplicate in the file", "duplicates in the file") == "2 duplicates in the file"
    )


def test_cut_keeps_short_text_and_ends_long_text_with_an_ellipsis_at_the_length():
    from lib.text import cut

    assert cut("Sacai knit", 10) == "Sacai knit"
    assert cut("Sacai knit coat", 10) == "Sacai kni…"
    assert len(cut("x" * 500, 60)) == 60
