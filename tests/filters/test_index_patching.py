"""Filter changes reach the index as patches that match exactly like a full rebuild."""

from __future__ import annotations

import pytest

from alerts.moderation import ban_user, unban_user
from filters import matching
from filters.index import FilterIndex, PatchedIndex
from filters.matching import build_index, bump_index_version, current_index
from filters.services import delete_filter, set_filter_active, update_filter
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db

LISTINGS = [
    listing("Rick Owens geobasket 42", price=60000),
    listing("sacai knit", price=20000, market="rakuma"),
    listing("Kapital ボロ デニム", price=30000),
    listing("リックオウエンス風 ブーツ", price=5000),
]


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    monkeypatch.setattr(matching, "_cache", None)


def matches(index) -> list[list[int]]:
    return [sorted(index.match(record)) for record in LISTINGS]


def test_every_kind_of_filter_change_is_patched_in():
    alice, bob = make_user(), make_user()
    rick = make_filter(alice, brands=["Rick Owens"], exclude=["風"])
    sacai = make_filter(alice, brands=["Sacai"])
    kapital = make_filter(bob, brands=["Kapital"])
    base = current_index()
    assert isinstance(base, FilterIndex)
    assert matches(base) == [[rick.pk], [sacai.pk], [kapital.pk], []]

    anything_rick = make_filter(bob, brands=["リックオウエンス"])
    update_filter(alice, sacai.pk, {"price_max": 10000})
    set_filter_active(alice, rick.pk, False)
    delete_filter(bob, kapital.pk)
    patched = current_index()
    assert isinstance(patched, PatchedIndex)
    # "リックオウエンス風" is in the style of Rick Owens, not by him: no brand match.
    assert matches(patched) == [[anything_rick.pk], [], [], []]
    assert matches(patched) == matches(build_index())

    ban_user(bob)
    assert matches(current_index()) == [[], [], [], []]
    unban_user(bob)
    set_filter_active(alice, rick.pk, True)
    patched = current_index()
    assert isinstance(patched, PatchedIndex)
    assert (
        matches(patched)
        == matches(build_index())
        == [sorted([rick.pk, anything_rick.pk]), [], [], []]
    )


def test_an_unchanged_stamp_reuses_the_index():
    make_filter(make_user(), brands=["Sacai"])
    assert current_index() is current_index()


def test_a_brand_table_change_rebuilds_everything():
    make_filter(make_user(), brands=["Sacai"])
    first = current_index()
    bump_index_version(brands=True)
    rebuilt = current_index()
    assert isinstance(rebuilt, FilterIndex) and rebuilt is not first


def test_a_large_change_rebuilds_instead_of_patching():
    owner = make_user(filter_quota=500)
    make_filter(owner, brands=["Sacai"])
    current_index()
    for n in range(250):
        make_filter(owner, f"k{n}", keywords=[f"word{n}"])
    assert isinstance(current_index(), FilterIndex)
