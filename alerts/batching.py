"""Packing one destination's alerts into as few Discord messages as the limits allow.

A message holds at most 10 embeds and 6,000 embed characters. In a channel
shared by several users, each embed names its user and the message content
pings exactly the users whose alerts it carries (`allowed_mentions` lists them
and nothing else); a DM pings nobody. Each message carries a nonce derived from
its alerts' ids, so sending the same alerts again is recognised by Discord.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from alerts.embeds import AlertView, alert_embed, embed_size

MAX_EMBEDS = 10
MAX_EMBED_CHARS = 6000
MAX_CONTENT = 2000
NONCE_LENGTH = 25


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

    def content(self) -> str:
        return " ".join(f"<@{user_id}>" for user_id in self.mentions)

    def payload(self) -> dict:
        """The JSON body for POST /channels/{id}/messages."""
        body = {
            "embeds": self.embeds,
            "allowed_mentions": {"parse": [], "users": self.mentions},
            "nonce": nonce_for(self.alert_ids),
            "enforce_nonce": True,
        }
        if self.mentions:
            body["content"] = self.content()
        return body

    def fits(self, size: int, mention: str | None) -> bool:
        if len(self.embeds) >= MAX_EMBEDS or self.embed_chars + size > MAX_EMBED_CHARS:
            return False
        if mention and mention not in self.mentions:
            return len(self.content()) + len(mention) + 4 <= MAX_CONTENT
        return True


def pack(items: Sequence[tuple[int, AlertView]]) -> list[PlannedMessage]:
    """Pack (alert id, view) pairs, in order, into the fewest messages; a view with a
    `mention_user_id` is for a shared channel and pings its user."""
    messages: list[PlannedMessage] = []
    for alert_id, view in items:
        embed = alert_embed(view)
        size = embed_size(embed)
        mention = view.mention_user_id
        if not messages or not messages[-1].fits(size, mention):
            messages.append(PlannedMessage())
        message = messages[-1]
        message.alert_ids.append(alert_id)
        message.embeds.append(embed)
        message.embed_chars += size
        if mention and mention not in message.mentions:
            message.mentions.append(mention)
    return messages
