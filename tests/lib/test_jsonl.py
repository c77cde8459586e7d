"""The JSON Lines reader: lines end at "\\n" only, each line fails alone, memory stays bounded."""

from __future__ import annotations

import io
import json
import tracemalloc

from lib.jsonl import LineError, jsonl_objects, parse_jsonl


def items(body: bytes) -> list[tuple[int, object]]:
    return list(parse_jsonl(body))


def test_only_line_feeds_end_lines():
    # A bare CR outside a string is JSON white space; U+2028, U+0085, form feed and the
    # other characters str.splitlines() would split at are data inside strings.
    body = b'{"a": 1}\r{"b": 2}\n' + json.dumps({"t": "x\u2028y\x85z\x0cw\x1cv"}).encode() + b"\n"
    result = items(body)
    assert [number for number, _ in result] == [1, 2]
    assert isinstance(result[0][1], LineError)  # `{"a": 1} {"b": 2}` is two values on one line
    assert "more text after the end of the JSON value at column 10" in str(result[0][1])
    assert result[1] == (2, {"t": "x\u2028y\x85z\x0cw\x1cv"})


def test_line_numbers_count_blank_lines_and_crlf_is_one_line_end():
    body = b'{"a": 1}\r\n\r\n   \n{"a": 2}\r\n{"a": 3}'
    assert items(body) == [(1, {"a": 1}), (4, {"a": 2}), (5, {"a": 3})]


def test_a_fifty_megabyte_line_is_refused_without_being_held():
    huge = b'{"title": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    stream = io.BytesIO(b'{"a": 1}\n' + huge + b'\n{"a": 2}\n')
    tracemalloc.start()
    try:
        result = list(jsonl_objects(stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result[0] == (1, {"a": 1})
    assert str(result[1][1]) == "line 2: is 52,428,813 bytes long; a line may be at most 65,536"
    assert result[2] == (3, {"a": 2})
    assert peak < 8 * 1024 * 1024  # a few chunks, never the line


def test_a_line_at_the_limit_is_read_and_one_byte_more_is_not():
    def sized(length: int) -> bytes:
        head = b'{"t": "'
        return head + b"x" * (length - len(head) - 2) + b'"}'

    ok, too_long = sized(65_536), sized(65_537)
    result = items(ok + b"\r\n" + too_long + b"\n" + too_long)
    assert result[0][1] == {"t": "x" * (65_536 - 9)}
    assert str(result[1][1]) == "line 2: is 65,537 bytes long; a line may be at most 65,536"
    assert str(result[2][1]) == "line 3: is 65,537 bytes long; a line may be at most 65,536"


def test_nul_and_lone_surrogates_are_refused_by_field_wherever_they_are():
    body = "\n".join(
        [
            '{"filters": [{"name": "a\\u0000b"}]}',
            '{"name": "\\udfff"}',
            '{"name": "\\ud83d\\ude00"}',  # a pair: one character (😀)
            '{"name": "\\\\u0000"}',  # an escaped backslash: the text \u0000, harmless
        ]
    ).encode()
    result = items(body)
    assert (
        str(result[0][1]) == "line 1: filters[0].name: contains U+0000 (NUL), which text can't hold"
    )
    assert str(result[1][1]) == (
        "line 2: name: contains a lone surrogate (U+DFFF), which is not a character"
    )
    assert result[2][1] == {"name": "😀"}
    assert result[3][1] == {"name": "\\u0000"}


def test_a_text_body_with_a_raw_surrogate_is_refused_not_crashed():
    result = list(parse_jsonl('{"a": 1}\n{"t": "\ud800"}\n'))
    assert result[0] == (1, {"a": 1})
    assert str(result[1][1]).startswith("line 2: is not UTF-8 text (byte 0xED at column 8)")


def test_absurd_numbers_are_refused_by_field():
    result = items(b'{"n": ' + b"9" * 41 + b'}\n{"n": -1e999}\n{"n": Infinity}\n{"n": 1e308}')
    assert str(result[0][1]) == "line 1: n: is a number 41 digits long"
    assert str(result[1][1]) == "line 2: n: is a number too large to use (-1e999)"
    assert str(result[2][1]) == "line 3: n: is Infinity, which is not a JSON value"
    assert result[3][1] == {"n": 1e308}
