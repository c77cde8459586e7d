"""`manage.py import_filters`: users and filters from an older system, idempotently."""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from alerts.moderation import ban_user
from filters.imports import import_discord_user
from filters.management.commands import import_filters
from filters.matching import index_stamp
from filters.models import Filter
from tests.builders import make_user, write_jsonl
from users.models import User

pytestmark = pytest.mark.django_db

ALICE = {
    "discord_id": "111111111111111111",
    "username": "alice",
    "destination": {"kind": "dm"},
    "filters": [
        {
            "name": "CDG",
            "brands": ["comme des garcons"],
            "keywords": [],
            "exclude": ["kids"],
            "price_min": 0,
            "price_max": 50000,
            "markets": ["mercari"],
            "active": True,
        },
        {"name": "Rick boots", "brands": ["ﾘｯｸｵｳｴﾝｽ"], "keywords": ["boots"]},
    ],
}
BOB = {
    "discord_id": "222222222222222222",
    "username": "bob",
    "destination": {
        "kind": "channel",
        "channel_id": "333333333333333333",
        "guild_id": "444444444444444444",
    },
    "filters": [{"name": "Tabi", "brands": ["MARGIELA"], "keywords": ["足袋"]}],
}


def test_it_imports_users_destinations_and_filters(tmp_path, run_command):
    status, out, err = run_command(
        "import_filters", str(write_jsonl(tmp_path / "u.jsonl", [ALICE, BOB]))
    )
    assert status == 0, err
    assert (
        "read 2, new users 2, filters created 3, updated 0, unchanged 0, lines with errors 0" in out
    )
    alice = User.objects.get(discord_id="111111111111111111")
    assert alice.username == "alice" and alice.destination_kind == "dm"
    assert Filter.objects.get(owner=alice, name="CDG").brands == ["Comme des Garçons"]
    assert Filter.objects.get(owner=alice, name="Rick boots").brands == ["Rick Owens"]
    bob = User.objects.get(discord_id="222222222222222222")
    assert (bob.destination_kind, bob.destination_channel_id, bob.destination_guild_id) == (
        "channel",
        "333333333333333333",
        "444444444444444444",
    )
    assert Filter.objects.get(owner=bob).brands == ["Maison Margiela"]


def test_running_it_twice_changes_nothing(tmp_path, run_command):
    path = write_jsonl(tmp_path / "u.jsonl", [ALICE, BOB])
    run_command("import_filters", str(path))
    snapshot = list(Filter.objects.order_by("pk").values())
    users = list(User.objects.order_by("pk").values())
    status, out, _ = run_command("import_filters", str(path))
    assert status == 0
    assert "new users 0, filters created 0, updated 0, unchanged 3" in out
    assert list(Filter.objects.order_by("pk").values()) == snapshot
    assert list(User.objects.order_by("pk").values()) == users


def test_a_changed_filter_is_updated_in_place(tmp_path, run_command):
    run_command("import_filters", str(write_jsonl(tmp_path / "a.jsonl", [ALICE])))
    changed = {**ALICE, "filters": [{**ALICE["filters"][0], "price_max": 20000}]}
    _status, out, _ = run_command(
        "import_filters", str(write_jsonl(tmp_path / "b.jsonl", [changed]))
    )
    assert "updated 1, unchanged 0" in out
    assert Filter.objects.get(name="CDG").price_max == 20000
    assert Filter.objects.filter(name="Rick boots").exists()  # not in the file: kept


def test_bad_input_is_reported_by_line_and_field_and_good_input_still_lands(tmp_path, run_command):
    bad_filter = {
        **BOB,
        "filters": [
            {"name": "ok", "brands": ["Sacai"]},
            {"name": "bad", "brands": ["Sacai"], "price_max": -5},
        ],
    }
    no_channel = {**BOB, "discord_id": "6", "destination": {"kind": "channel", "guild_id": "7"}}
    no_guild = {**BOB, "discord_id": "8", "destination": {"kind": "channel", "channel_id": "9"}}
    rows = [
        ALICE,
        "{not json",
        {"discord_id": "abc", "filters": []},
        bad_filter,
        {"discord_id": "5", "colour": "red"},
        no_channel,
        no_guild,
    ]
    status, out, err = run_command("import_filters", str(write_jsonl(tmp_path / "u.jsonl", rows)))
    assert status == 1
    assert "line 2: not valid JSON" in err
    assert (
        "line 3: discord_id: The Discord user id must be a number written with the digits 0-9, "
        "not 'abc'." in err
    )
    assert "line 4: filters[1].price_max: The maximum price can't be negative." in err
    assert "line 5: colour: is not a user field" in err
    assert "line 6: channel_id: Give the channel id." in err
    assert "line 7: guild_id: Give the server (guild) id of the channel." in err
    assert "read 7, new users 1, filters created 2" in out
    assert "lines with errors 6" in out
    assert set(User.objects.values_list("discord_id", flat=True)) == {ALICE["discord_id"]}


def test_a_line_with_any_bad_filter_changes_nothing(tmp_path, run_command):
    run_command("import_filters", str(write_jsonl(tmp_path / "a.jsonl", [BOB])))
    before = list(Filter.objects.order_by("pk").values())
    moved = {
        **BOB,
        "destination": {"kind": "dm"},
        "filters": [
            {"name": "Tabi", "brands": ["MARGIELA"], "keywords": ["足袋"], "price_max": 9000},
            {"name": "new", "brands": ["Sacai"]},
            {"name": "bad", "keywords": ["coat"], "markets": ["ebay"]},
        ],
    }
    only_bad = {
        "discord_id": "777",
        "username": "carol",
        "filters": [{"name": "bad", "keywords": []}],
    }
    status, out, err = run_command(
        "import_filters", str(write_jsonl(tmp_path / "b.jsonl", [moved, only_bad]))
    )
    assert status == 1
    assert "line 1: filters[2].markets: 'ebay' is not a market you can choose" in err
    assert "line 2: filters[0].brands: Add at least one brand or keyword" in err
    assert "new users 0, filters created 0, updated 0, unchanged 0, lines with errors 2" in out
    assert list(Filter.objects.order_by("pk").values()) == before
    assert User.objects.get(discord_id=BOB["discord_id"]).destination_kind == "channel"
    assert not User.objects.filter(discord_id="777").exists()  # no user without their filters


def test_a_list_given_as_text_is_refused_naming_the_field(tmp_path, run_command):
    row = {
        "discord_id": "778",
        "filters": [{"name": "Rick", "brands": "Rick Owens", "markets": "mercari"}],
    }
    status, _, err = run_command("import_filters", str(write_jsonl(tmp_path / "u.jsonl", [row])))
    assert status == 1
    assert (
        'line 1: filters[0].brands: brands must be a list, such as ["Rick Owens"], '
        'not the text "Rick Owens".' in err
    )
    assert 'line 1: filters[0].markets: markets must be a list, such as ["mercari"]' in err
    assert not User.objects.filter(discord_id="778").exists()


def test_a_name_given_twice_on_a_line_is_refused(tmp_path, run_command):
    row = {
        "discord_id": "779",
        "filters": [{"name": "CDG", "brands": ["CDG"]}, {"name": "cdg", "brands": ["Sacai"]}],
    }
    status, _, err = run_command("import_filters", str(write_jsonl(tmp_path / "u.jsonl", [row])))
    assert status == 1
    assert "line 1: filters[1].name: filters[0] already has the name “cdg”." in err
    assert not Filter.objects.exists()


def test_a_banned_users_line_is_refused(tmp_path, run_command):
    run_command("import_filters", str(write_jsonl(tmp_path / "a.jsonl", [BOB])))
    ban_user(User.objects.get(discord_id=BOB["discord_id"]), "spam")
    before = list(Filter.objects.order_by("pk").values())
    changed = {
        **BOB,
        "destination": {"kind": "dm"},
        "filters": [{"name": "More", "brands": ["Sacai"]}],
    }
    status, out, err = run_command(
        "import_filters", str(write_jsonl(tmp_path / "b.jsonl", [changed]))
    )
    assert status == 1
    assert (
        "line 1: discord_id: bob is banned, so their destination and filters can't be changed."
        in err
    )
    assert "filters created 0, updated 0, unchanged 0, lines with errors 1" in out
    assert list(Filter.objects.order_by("pk").values()) == before
    assert User.objects.get(discord_id=BOB["discord_id"]).destination_kind == "channel"


def test_the_quota_applies_to_imports_and_a_line_over_it_adds_nothing(tmp_path, run_command):
    many = {**BOB, "filters": [{"name": f"f{i}", "keywords": [f"k{i}"]} for i in range(27)]}
    status, out, err = run_command("import_filters", str(write_jsonl(tmp_path / "u.jsonl", [many])))
    assert status == 1
    assert "new users 0, filters created 0" in out
    assert (
        "line 1: filters: 0 filters are stored and 27 would be added, over the quota of 25." in err
    )
    assert not User.objects.exists()
    fits = {**BOB, "filters": many["filters"][:25]}
    status, out, _ = run_command("import_filters", str(write_jsonl(tmp_path / "v.jsonl", [fits])))
    assert status == 0 and "filters created 25" in out


def test_a_missing_file_is_a_clear_error(run_command):
    status, _, err = run_command("import_filters", "/nonexistent/users.jsonl")
    assert status == 1
    assert "can't read /nonexistent/users.jsonl" in err


# -- many users at once --------------------------------------------------------------------


def _scattered_lines(count: int) -> list:
    """`count` users' lines, mostly good, with bad ones of every kind scattered among them,
    users met twice, names asked for twice and users already stored (see _stored_users)."""
    rows: list = []
    for n in range(count):
        filters = [
            {"name": f"f{k}", "brands": ["Sacai"], "keywords": [f"k{n}"], "price_max": 1000 * k}
            for k in range(1, 2 + n % 3)
        ]
        row = {"discord_id": str(5_000_000 + n), "username": f"hunter{n}", "filters": filters}
        if n % 2:
            row["destination"] = {"kind": "channel", "channel_id": str(7000 + n), "guild_id": "42"}
        if n % 29 == 7:
            rows.append("{not json")
            continue
        if n % 17 == 5:
            row["filters"][0]["price_max"] = -5
        elif n % 31 == 3:
            row["colour"] = "red"
        elif n % 41 == 11:
            row["destination"] = {"kind": "channel", "channel_id": "9"}
        elif n % 43 == 13:
            row["discord_id"] = "abc"
        elif n % 19 == 0 and n:  # an earlier user again, renamed, one filter changed, one new
            again = rows[-10]
            if isinstance(again, dict):
                row = {
                    **again,
                    "username": f"renamed{n}",
                    "discord_id": "000" + str(again["discord_id"]),  # the same id, spelt longer
                    "filters": [
                        {"name": "F1", "brands": ["Sacai"], "price_max": 777},
                        {"name": f"more{n}", "keywords": ["coat"]},
                    ],
                }
        elif n % 23 == 1:
            row["username"] = "twin"  # the first gets it, the next ones twin-<id>
        rows.append(row)
    return rows


def _stored_users() -> None:
    """Accounts the lines above meet: one renamed, one banned, one near its quota, one that
    has just enough room, one with a filter to update, and a staff account holding "sam"."""
    make_user("old name", discord_id="5000002")
    near_quota = make_user("near", discord_id="5000004")
    Filter.objects.bulk_create(
        Filter(owner=near_quota, name=f"old{k}", keywords=[f"w{k}"]) for k in range(24)
    )
    room_for_one = make_user("room", discord_id="5000006")
    Filter.objects.bulk_create(
        Filter(owner=room_for_one, name=f"old{k}", keywords=[f"w{k}"]) for k in range(24)
    )
    edited = make_user("edited", discord_id="5000008")
    Filter.objects.create(owner=edited, name="F1", brands=["Sacai"], price_max=5)
    ban_user(make_user("banned", discord_id="5000010"), "spam")
    make_user("sam", discord_id=None, is_staff=True)


def _line_by_line(lines, brands):
    """The import as it was before it wrote in bulk: each line in its own transaction."""
    return [
        import_discord_user(line.discord_id, line.username, line.destination, line.entries, brands)
        for line in lines
    ]


def _everything_stored() -> tuple[list, list]:
    user_fields = [
        "discord_id",
        "username",
        "destination_kind",
        "destination_channel_id",
        "destination_guild_id",
        "is_banned",
        "filter_quota",
    ]
    filter_fields = ["owner__discord_id", "name", "brands", "keywords", "exclude"]
    filter_fields += ["price_min", "price_max", "markets", "active"]
    users = sorted(User.objects.values_list(*user_fields), key=repr)
    filters = sorted(Filter.objects.values_list(*filter_fields), key=repr)
    return users, filters


class _Undo(Exception):
    pass


def test_a_bulk_import_reports_and_stores_exactly_what_line_by_line_did(
    tmp_path, run_command, monkeypatch
):
    _stored_users()
    rows = _scattered_lines(320)
    rows[12] = {**rows[12], "username": "sam"}  # held by staff: becomes sam-<id>
    path = write_jsonl(tmp_path / "users.jsonl", rows)
    monkeypatch.setattr(import_filters, "CHUNK", 100)  # several chunks

    before = _everything_stored()
    with monkeypatch.context() as patch:
        patch.setattr(import_filters, "import_discord_users", _line_by_line)
        try:
            with transaction.atomic():
                expected = run_command("import_filters", str(path))
                expected_rows = _everything_stored()
                raise _Undo
        except _Undo:
            pass
    assert _everything_stored() == before

    with CaptureQueriesContext(connection) as queries:
        status, out, err = run_command("import_filters", str(path))
    # Written in bulk, not line by line (whose outcome a refused chunk would fall back to).
    assert len(queries) < len(rows)

    def timeless(text: str) -> str:
        return re.sub(r", [0-9.]+s\b", "", text)

    assert (status, timeless(out), err) == (expected[0], timeless(expected[1]), expected[2])
    assert _everything_stored() == expected_rows
    # What the lines were made to show did happen:
    assert status == 1
    for problem in (
        "not valid JSON",
        "filters[0].price_max: The maximum price can't be negative.",
        "colour: is not a user field",
        "guild_id: Give the server (guild) id of the channel.",
        "discord_id: The Discord user id must be a number",
        "discord_id: banned is banned, so their destination and filters can't be changed.",
        "filters: 24 filters are stored and 2 would be added, over the quota of 25.",
    ):
        assert problem in err
    users = dict(User.objects.values_list("discord_id", "username"))
    assert users["5000002"] == "hunter2"
    assert users["5000012"] == "sam-5000012"
    assert sum(name.startswith("twin-") for name in users.values()) >= 2
    assert "twin" in users.values()
    assert Filter.objects.filter(owner__discord_id="5000006").count() == 25
    assert Filter.objects.get(owner__discord_id="5000008", name="f1").price_max == 1000


def test_the_index_is_marked_stale_once_a_chunk_not_once_a_user(tmp_path, run_command, monkeypatch):
    monkeypatch.setattr(import_filters, "CHUNK", 50)
    rows = [
        {"discord_id": str(100 + n), "filters": [{"name": "coat", "keywords": [f"coat {n}"]}]}
        for n in range(120)
    ]
    index_stamp()  # the stamp's row exists before the import
    before = index_stamp().version
    status, out, _ = run_command("import_filters", str(write_jsonl(tmp_path / "u.jsonl", rows)))
    assert status == 0 and "new users 120, filters created 120" in out
    assert index_stamp().version == before + 3


def test_a_chunk_the_database_refuses_is_retried_line_by_line(tmp_path, run_command):
    # "bob" is taken, so user 901 is named "bob-901", which another account already has:
    # only the database sees that, when it refuses the chunk's INSERT.
    make_user("bob", discord_id="900")
    make_user("bob-901", discord_id="902")
    rows = [
        {
            "discord_id": str(800 + n),
            "username": f"u{n}",
            "filters": [{"name": "a", "keywords": ["x"]}],
        }
        for n in range(60)
    ]
    rows.insert(
        20, {"discord_id": "901", "username": "bob", "filters": [{"name": "a", "keywords": ["x"]}]}
    )
    rows.insert(40, {"discord_id": "777", "filters": [{"name": "bad", "price_max": -1}]})
    status, out, err = run_command("import_filters", str(write_jsonl(tmp_path / "u.jsonl", rows)))
    assert status == 1
    [refused] = [line for line in err.splitlines() if line.startswith("line 21:")]
    assert refused.startswith("line 21: the database refused it: ")
    assert "username" in refused
    assert "line 41: filters[0]." in err
    assert "read 62, new users 60, filters created 60" in out and "lines with errors 2" in out
    assert not User.objects.filter(discord_id__in=["901", "777"]).exists()
    assert (
        Filter.objects.filter(owner__discord_id__in=[str(800 + n) for n in range(60)]).count() == 60
    )
