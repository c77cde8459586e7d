"""Alerts packed into the fewest Discord messages that stay inside every limit."""

from __future__ import annotations

import pytest

from alerts import claim
from alerts.batching import nonce_for, pack
from alerts.embeds import AlertView, alert_embed, discord_len, shorten
from tests.emulators.discord import message_problems


def view(n: int = 1, **changes) -> AlertView:
    fields = {
        "title": f"Rick Owens ジオバスケット {n}",
        "url": f"https://jp.mercari.com/item/m{n:011d}",
        "price": 12345,
        "market": "mercari",
        "image_url": f"https://static.mercdn.net/thumb/item/webp/m{n:011d}_1.jpg",
        "filter_names": ("Rick",),
    }
    return AlertView(**{**fields, **changes})


def test_an_alert_embed_shows_the_listing_price_market_image_and_filters():
    embed = alert_embed(view(7, filter_names=("Rick", "Geobasket")))
    assert embed["title"] == "Rick Owens ジオバスケット 7"
    assert embed["url"] == "https://jp.mercari.com/item/m00000000007"
    assert embed["description"] == "**¥12,345** · Mercari"
    assert embed["fields"] == [{"name": "Filters", "value": "Rick, Geobasket", "inline": True}]
    assert embed["thumbnail"] == {
        "url": "https://static.mercdn.net/thumb/item/webp/m00000000007_1.jpg"
    }


@pytest.mark.parametrize(
    "title",
    [
        "Rick Owens " + "archive leather jacket " * 20,  # cut at a space
        "リックオウエンス" * 60,  # no spaces at all
        "🔥" * 300,  # two UTF-16 units each
    ],
)
def test_long_titles_are_cut_cleanly_inside_the_limit(title):
    cut = alert_embed(view(title=title))["title"]
    assert discord_len(cut) <= 256 and cut.endswith("…")
    assert title.startswith(cut[:-1].rstrip())
    assert not cut[:-1].endswith(" ")


def test_shorten_leaves_short_text_alone():
    assert shorten("sacai knit", 256) == "sacai knit"


def test_a_dm_gets_ten_embeds_a_message_and_pings_nobody():
    messages = pack([(n, view(n)) for n in range(25)])
    assert [len(m.embeds) for m in messages] == [10, 10, 5]
    for message in messages:
        payload = message.payload()
        assert message_problems(payload) == {}
        assert "content" not in payload
        assert payload["allowed_mentions"] == {"parse": [], "users": []}
        assert payload["enforce_nonce"] is True


def test_big_embeds_split_by_the_six_thousand_character_budget():
    many_filters = tuple(f"a filter with a long descriptive name {n}" for n in range(40))
    items = [(n, view(n, title="x " * 200, filter_names=many_filters)) for n in range(12)]
    messages = pack(items)
    assert len(messages) > 2 and all(len(m.embeds) < 10 for m in messages)
    assert sum(len(m.alert_ids) for m in messages) == 12
    for message in messages:
        assert message_problems(message.payload()) == {}
        assert message.embed_chars <= 6000


def test_a_shared_channel_pings_exactly_the_users_in_each_message():
    users = ["111", "222", "333"]
    items = [(n, view(n, mention_user_id=users[n % 3])) for n in range(13)]
    first, second = pack(items)
    assert first.payload()["content"] == "<@111> <@222> <@333>"
    assert first.payload()["allowed_mentions"] == {"parse": [], "users": ["111", "222", "333"]}
    assert second.payload()["allowed_mentions"]["users"] == ["222", "333", "111"]
    assert first.embeds[1]["description"].startswith("<@222> · ")
    assert message_problems(first.payload()) == {}


def test_the_nonce_is_short_and_the_same_for_the_same_alerts():
    assert len(nonce_for([3, 1, 2])) <= 25
    assert nonce_for([3, 1, 2]) == nonce_for([1, 2, 3])
    assert nonce_for([1, 2, 3]) != nonce_for([1, 2, 4])


@pytest.mark.django_db
def test_a_claimed_alert_renders_with_its_filters_current_names(queued_alerts):
    from filters.models import Filter

    queued_alerts(1)
    Filter.objects.update(name="Sacai (renamed)")
    [alert] = claim.claim_due("me", 10)
    embed = alert_embed(AlertView.of(alert, mention=True))
    assert embed["fields"][0]["value"] == "Sacai (renamed)"
    assert embed["description"].startswith(f"<@{alert.user.discord_id}> · ")
