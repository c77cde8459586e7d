"""Packing one destination's alerts into as few Discord messages as the limits allow.

A message holds at most 10 embeds and 6,000 embed characters. In a channel
shared by several users, each embed names its user and the message content
pings exactly the users whose alerts it carries (`allowed_mentions` lists them
and nothing else); a DM pings nobody. Each message carries a nonce derived from
its alerts' ids, so sending the same alerts again is recognised by Discord.
Digests pack compact lines instead of an embed per alert.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from alerts.embeds import AlertView, alert_embed, discord_len, embed_size, shorten
from lib.formatting import format_price, market_label

MAX_EMBEDS = 10
MAX_EMBED_CHARS = 6000
MAX_CONTENT = 2000
NONCE_LENGTH = 25
DESCRIPTION_LIMIT = 4096
DIGEST_TITLE = "Alert digest"
DIGEST_TITLE_LIMIT = 100
DIGEST_COLOUR = 0x5865F2


def nonce_for(alert_ids: Sequence[int]) -> str:
    """A nonce of at most 25 characters, the same whenever the same alerts are sent together."""
    digest = hashlib.blake2b(
        ",".join(map(str, sorted(alert_ids))).encode(), digest_size=16
    ).hexdigest()
    return digest[:NONCE_LENGTH]


@dataclass
class PlannedMessage:
    alert_ids: list[int] = field(default_factory=list)
    embeds: list[dict] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    embed_chars: int = 0
    nonce: str = ""  # empty: derived from the alert ids
    notice: str = ""  # a one-time note shown above the alerts

    def content(self) -> str:
        pings = " ".join(f"<@{user_id}>" for user_id in self.mentions)
        return "\n".join(part for part in (self.notice, pings) if part)

    def payload(self) -> dict:
        """The JSON body for POST /channels/{id}/messages."""
        body = {
            "embeds": self.embeds,
            "allowed_mentions": {"parse": [], "users": self.mentions},
            "nonce": self.nonce or nonce_for(self.alert_ids),
            "enforce_nonce": True,
        }
        if content := self.content():
            body["content"] = content
        return body

    def fits(self, size: int, mention: str | None, new_embed: bool = True) -> bool:
        if new_embed and len(self.embeds) >= MAX_EMBEDS:
            return False
        if self.embed_chars + size > MAX_EMBED_CHARS:
            return False
        if mention and mention not in self.mentions:
            return discord_len(self.content()) + len(mention) + 4 <= MAX_CONTENT
        return True

    def add(self, alert_id: int, size: int, mention: str | None) -> None:
        self.alert_ids.append(alert_id)
        self.embed_chars += size
        if mention and mention not in self.mentions:
            self.mentions.append(mention)


def pack(items: Sequence[tuple[int, AlertView]]) -> list[PlannedMessage]:
    """Pack (alert id, view) pairs, in order, into the fewest messages, an embed each; a
    view with a `mention_user_id` is for a shared channel and pings its user."""
    messages: list[PlannedMessage] = []
    for alert_id, view in items:
        embed = alert_embed(view)
        size = embed_size(embed)
        mention = view.mention_user_id
        if not messages or not messages[-1].fits(size, mention):
            messages.append(PlannedMessage())
        messages[-1].embeds.append(embed)
        messages[-1].add(alert_id, size, mention)
    return messages


def digest_line(view: AlertView) -> str:
    title = shorten(view.title, DIGEST_TITLE_LIMIT).replace("[", "(").replace("]", ")")
    parts = [f"[{title}]({view.url})", f"**{format_price(view.price)}**", market_label(view.market)]
    if view.filter_names:
        parts.append(shorten(", ".join(view.filter_names), DIGEST_TITLE_LIMIT))
    line = " · ".join(parts)
    return f"<@{view.mention_user_id}> {line}" if view.mention_user_id else line


def pack_digest(items: Sequence[tuple[int, AlertView]]) -> list[PlannedMessage]:
    """Pack a digest: one compact line per alert, many lines per embed, so an hour's or a
    day's alerts take a few messages instead of one embed each."""
    messages: list[PlannedMessage] = []
    for alert_id, view in items:
        line = digest_line(view)
        size = discord_len(line) + 1
        mention = view.mention_user_id
        message = messages[-1] if messages else None
        if message:
            embed = message.embeds[-1]
            if discord_len(embed["description"]) + size <= DESCRIPTION_LIMIT and message.fits(
                size, mention, new_embed=False
            ):
                embed["description"] += "\n" + line
                message.add(alert_id, size, mention)
                continue
        size = discord_len(line)
        if not message or not message.fits(size + discord_len(DIGEST_TITLE), mention):
            message = PlannedMessage()
            messages.append(message)
        new_embed = {"title": DIGEST_TITLE, "description": line, "color": DIGEST_COLOUR}
        message.embeds.append(new_embed)
        message.add(alert_id, size + discord_len(DIGEST_TITLE), mention)
    return messages
