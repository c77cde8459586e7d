"""`import_listings` against bad input: each bad line is named and refused, the good ones imported."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest
from django.db import connection

from alerts.models import Alert
from listings.models import Listing
from tests.builders import listing_json, make_filter, make_user
from tests.conftest import ROOT, subprocess_database_url

pytestmark = pytest.mark.django_db


def line(**overrides) -> bytes:
    """A listing line for the middle of the file, with some fields replaced."""
    row = {**listing_json("sacai bad", external_id="bad"), **overrides}
    row = {key: value for key, value in row.items() if value is not ...}
    try:
        return json.dumps(row, ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a lone surrogate: only its escape can be written
        return json.dumps(row).encode()


def raw_title(raw: bytes) -> bytes:
    """A listing line whose title holds these bytes exactly, unescaped."""
    return line(title="@@").replace(b"@@", raw)


def good(external_id: str) -> bytes:
    return json.dumps(listing_json(f"sacai knit {external_id}", external_id=external_id)).encode()


def write(path, lines: list[bytes], end: bytes = b"\n"):
    path.write_bytes(b"".join(one + end for one in lines))
    return path


# (id, the bad line, what the error must say after "line 2: ")
BAD_LINES = [
    ("invalid utf-8", raw_title(b"caf\xe9"), "is not UTF-8 text (byte 0xE9 at column"),
    ("raw surrogate bytes", raw_title(b"\xed\xa0\x80"), "is not UTF-8 text (byte 0xED"),
    ("escaped lone surrogate", line(title="\ud800"), "title: contains a lone surrogate (U+D800)"),
    ("escaped nul", line(title="a\x00b"), "title: contains U+0000 (NUL)"),
    (
        "raw nul",
        raw_title(b"a\x00b"),
        "not valid JSON: a raw control character (U+0000) inside a string",
    ),
    (
        "raw escape",
        raw_title(b"a\x1bb"),
        "not valid JSON: a raw control character (U+001B) inside a string",
    ),
    (
        "bare CR in a string",
        raw_title(b"a\rb"),
        "not valid JSON: a raw control character (U+000D) inside a string",
    ),
    ("100k-deep nesting", b"[" * 100_000 + b"]" * 100_000, "is 200,000 bytes long"),
    (
        "30k-deep nesting in a field",
        line(title="@@").replace(b'"@@"', b"[" * 30_000 + b"]" * 30_000),
        "nests arrays or objects too deeply",
    ),
    (
        "5,000-digit price",
        line(price="@@").replace(b'"@@"', b"1" + b"0" * 4999),
        "price: is a number 5,000 digits long",
    ),
    ("1e400 price", line(price="@@").replace(b'"@@"', b"1e400"), "price: is a number too large"),
    ("NaN price", line(price="@@").replace(b'"@@"', b"NaN"), "price: is NaN, which is not a JSON"),
    ("70 KB line", line(title="x" * 70_000), "is 70,148 bytes long; a line may be at most 65,536"),
    ("BOM on a later line", b"\xef\xbb\xbf" + line(), "starts with a byte order mark (U+FEFF)"),
    ("price 10**30", line(price=10**30), "price: is a 31-digit number; a listing's price can be"),
    (
        "price 1e30",
        line(price=1e30),
        "price: is 1e+30; a listing's price can be at most ¥100,000,000",
    ),
    ("price ²", line(price="²"), "price: must be a whole number of yen, not '²'"),
    ("price ①", line(price="①"), "price: must be a whole number of yen, not '①'"),
    ("price -1", line(price=-1), "price: can't be negative (-1)"),
    ("price 1.5", line(price=1.5), "price: must be a whole number of yen, not 1.5"),
    ("price true", line(price=True), "price: must be a whole number of yen, not true"),
    ("price missing", line(price=...), "price: is missing"),
    (
        "February 30th",
        line(listed_at="2024-02-30T00:00:00+09:00"),
        "listed_at: '2024-02-30T00:00:00+09:00' is not a real time",
    ),
    (
        "year 10000 in UTC",
        line(listed_at="9999-12-31T23:59:59-01:00"),
        "listed_at: '9999-12-31T23:59:59-01:00' is out of range",
    ),
    (
        "title with ESC",
        line(title="sacai \x1b[31mred"),
        "title: contains a control character (U+001B)",
    ),
    ("title with BEL", line(title="sacai\x07"), "title: contains a control character (U+0007) at"),
    (
        "title with C1 NEL",
        line(title="sacai\x85coat"),
        "title: contains a control character (U+0085)",
    ),
    ("title with DEL", line(title="sacai\x7f"), "title: contains a control character (U+007F)"),
    (
        "invisible title",
        line(title="\u200b\u2060\u200b"),
        "title: is empty: it has only invisible characters",
    ),
    ("soft hyphen title", line(title="\u00ad \ufeff"), "title: is empty: it has only invisible"),
    ("blank title", line(title="   "), "title: is empty"),
    ("missing url", line(url=...), "url: is missing"),
    ("title a number", line(title=5), "title: must be text, not 5"),
    ("title a list", line(title=["sacai"]), "title: must be text, not a list"),
    ("brand an object", line(brand={"name": "sacai"}), "brand: must be text, not an object"),
    ("an array line", b"[1]", "must be a JSON object {…}, not an array"),
    ("a string line", b'"x"', "must be a JSON object {…}, not a string"),
    ("a null line", b"null", "must be a JSON object {…}, not null"),
    (
        "cut-off line",
        b'{"market": "mercari", "ti',
        "the line ends before the JSON object does (cut off?)",
    ),
    ("cut-off after a colon", b'{"market":', "the line ends before the JSON object does"),
    ("two objects", line() + b"{}", "not valid JSON: more text after the end of the JSON value"),
    ("a lone comma", b",", "not valid JSON: expected a value at column 1"),
    (
        "unquoted key",
        b"{market: 1}",
        'not valid JSON: expected a "quoted" property name at column 2',
    ),
    ("unknown field", line(colour="black"), "colour: is not a listing field"),
]


@pytest.mark.parametrize(
    ("bad", "expected"), [c[1:] for c in BAD_LINES], ids=[c[0] for c in BAD_LINES]
)
def test_a_bad_line_between_two_good_ones_is_named_and_the_good_ones_imported(
    tmp_path, run_command, bad, expected
):
    make_filter(make_user(), brands=["Sacai"])
    path = write(tmp_path / "l.jsonl", [good("ok1"), bad, good("ok2")])
    status, out, err = run_command("import_listings", str(path))
    assert status == 1
    assert f"line 2: {expected}" in err
    assert "Traceback" not in err and " at at " not in err
    assert out.startswith(
        "read 3 lines: 2 new, 0 already seen, 0 duplicates in the file, 1 rejected"
    )
    assert set(Listing.objects.values_list("external_id", flat=True)) == {"ok1", "ok2"}
    assert Alert.objects.count() == 2


def test_a_cut_off_last_line_says_so(tmp_path, run_command):
    path = tmp_path / "l.jsonl"
    path.write_bytes(good("ok1") + b"\n" + good("ok2") + b'\n{"market": "mercari", "ti')
    status, out, err = run_command("import_listings", str(path))
    assert status == 1
    assert "line 3: the line ends before the JSON object does (cut off?)" in err
    assert out.startswith("read 3 lines: 2 new,")


def test_a_bom_on_the_first_line_and_crlf_line_ends_are_fine(tmp_path, run_command):
    path = write(tmp_path / "l.jsonl", [b"\xef\xbb\xbf" + good("ok1"), good("ok2")], end=b"\r\n")
    status, out, err = run_command("import_listings", str(path))
    assert status == 0, err
    assert out.startswith("read 2 lines: 2 new,")


def test_line_breaks_and_tabs_in_a_title_fold_into_spaces(tmp_path, run_command):
    path = write(tmp_path / "l.jsonl", [line(title="sacai\n\tknit\r\nvest\u2028navy")])
    status, _, err = run_command("import_listings", str(path))
    assert status == 0, err
    assert Listing.objects.get().title == "sacai knit vest navy"


@pytest.mark.parametrize(
    "bad",
    [line(price=10**30), line(title="sacai refused by the database")],
    ids=["refused by validation", "refused by the database"],
)
def test_one_bad_line_in_a_big_file_loses_nothing_else(tmp_path, run_command, bad):
    """2,501 lines in three batches, the bad one at 1,500: the other 2,500 are imported.

    The second case is a line validation lets through but the database refuses
    (a rule of the database's own, added here): its batch is stored again row by
    row, so only that line is rejected.
    """
    table = Listing._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT test_refused "
                "CHECK (title NOT LIKE '%refused by the database%')"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER test_refused BEFORE INSERT ON {table} "
                "WHEN NEW.title LIKE '%refused by the database%' "
                "BEGIN SELECT RAISE(ABORT, 'a database rule refuses this title'); END"
            )
    make_filter(make_user(), brands=["Sacai"])
    lines = [good(f"ok{n}") for n in range(1, 2502)]
    lines[1499] = bad
    status, out, err = run_command("import_listings", str(write(tmp_path / "l.jsonl", lines)))
    assert status == 1
    assert out.startswith(
        "read 2,501 lines: 2,500 new, 0 already seen, 0 duplicates in the file, 1 rejected, "
        "2,500 alerts queued,"
    )
    assert err.splitlines()[0].startswith("line 1500: ")
    assert Listing.objects.count() == 2500
    assert not Listing.objects.filter(external_id="bad").exists()


def test_a_database_refusal_names_the_line(tmp_path, run_command):
    table = Listing._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT test_refused CHECK (title NOT LIKE '%forbidden%')"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER test_refused BEFORE INSERT ON {table} "
                "WHEN NEW.title LIKE '%forbidden%' "
                "BEGIN SELECT RAISE(ABORT, 'a database rule refuses this title'); END"
            )
    path = write(tmp_path / "l.jsonl", [good("ok1"), line(title="forbidden coat"), good("ok2")])
    status, out, err = run_command("import_listings", str(path))
    assert status == 1
    assert "line 2: the database refused it: " in err
    assert "test_refused" in err or "a database rule refuses this title" in err
    assert out.startswith(
        "read 3 lines: 2 new, 0 already seen, 0 duplicates in the file, 1 rejected"
    )


def test_duplicates_in_the_file_are_counted_and_alert_once(tmp_path, run_command):
    alice = make_user()
    make_filter(alice, brands=["Sacai"])
    lines = [
        line(title="sacai knit", external_id="d1", price=9000),
        good("ok1"),
        line(title="sacai knit", external_id="d1", price=8000),
        line(title="sacai knit", external_id="d1", price=7000),
    ]
    status, out, err = run_command("import_listings", str(write(tmp_path / "l.jsonl", lines)))
    assert status == 0, err
    assert out.startswith(
        "read 4 lines: 2 new, 0 already seen, 2 duplicates in the file, 0 rejected, 2 alerts queued,"
    )
    assert Alert.objects.filter(listing__external_id="d1").count() == 1
    assert Listing.objects.get(external_id="d1").price == 7000  # the last line wins


def test_a_duplicate_in_a_later_batch_is_a_duplicate_not_already_seen(tmp_path, run_command):
    make_filter(make_user(), brands=["Sacai"])
    lines = [good(f"ok{n}") for n in range(1, 1001)]  # one full batch
    lines.append(line(title="sacai knit ok1", external_id="ok1", price=500))
    status, out, err = run_command("import_listings", str(write(tmp_path / "l.jsonl", lines)))
    assert status == 0, err
    assert out.startswith(
        "read 1,001 lines: 1,000 new, 0 already seen, 1 duplicate in the file, 0 rejected, "
        "1,000 alerts queued,"
    )
    assert Listing.objects.get(external_id="ok1").price == 500
    assert Alert.objects.filter(listing__external_id="ok1").count() == 1


def test_one_alert_queued_reads_in_the_singular(tmp_path, run_command):
    make_filter(make_user(), brands=["Sacai"])
    _, out, _ = run_command("import_listings", str(write(tmp_path / "l.jsonl", [good("a")])))
    assert out.startswith(
        "read 1 line: 1 new, 0 already seen, 0 duplicates in the file, 0 rejected, 1 alert queued,"
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_input_from_a_pipe_is_imported(tmp_path, name):
    """`cat listings.jsonl | manage.py import_listings -`: the pipe is read once, not counted first."""
    make_filter(make_user(), brands=["Sacai"])
    data = b"".join(one + b"\n" for one in [good("p1"), b"[1]", good("p2")])
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "import_listings", name],
        input=data,  # through a pipe
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 1, err
    assert out.startswith(
        "read 3 lines: 2 new, 0 already seen, 0 duplicates in the file, 1 rejected"
    )
    assert "line 2: must be a JSON object {…}, not an array" in err
    assert set(Listing.objects.values_list("external_id", flat=True)) == {"p1", "p2"}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_locked_database_prints_the_summary_and_says_rerunning_is_safe(tmp_path, run_command):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's single writer lock; PostgreSQL writers don't lock each other out")
    path = write(tmp_path / "l.jsonl", [good("ok1"), b"[1]", good("ok2")])
    options = connection.settings_dict["OPTIONS"]
    timeout = options["timeout"]
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    try:
        options["timeout"] = 0.2  # fail fast instead of waiting 20 s for the lock
        connection.close()
        holder.execute("BEGIN IMMEDIATE")  # another process is writing
        status, out, err = run_command("import_listings", str(path))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        options["timeout"] = timeout
        connection.close()
    assert status == 1
    assert "Traceback" not in err
    assert out.startswith(
        "read 3 lines: 0 new, 0 already seen, 0 duplicates in the file, 1 rejected"
    )
    assert (
        "the database was busy (database is locked); nothing from line 1 on was imported — "
        "running the same command again is safe: listings already stored are not alerted twice"
    ) in err
    assert not Listing.objects.exists()
    status, out, err = run_command("import_listings", str(path))
    assert out.startswith("read 3 lines: 2 new,")
