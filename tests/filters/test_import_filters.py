"""`manage.py import_filters`: users and filters from an older system, idempotently."""

from __future__ import annotations

import pytest

from filters.models import Filter
from tests.builders import write_jsonl
from users.models import User
from users.services import ban_user

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
