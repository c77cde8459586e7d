"""Every write to users: Discord identities, alert destinations, bans."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from filters.errors import Banned, FieldError
from filters.matching import bump_index_version
from users.models import User

SNOWFLAKE_LABELS = {
    "discord_id": "The Discord user id",
    "channel_id": "The channel id",
    "guild_id": "The server id",
}


def check_not_banned(user: User, consequence: str) -> None:
    """Refuse a banned user's request, saying what the suspension stops."""
    if user.is_banned:
        raise Banned(f"Your account is suspended, so {consequence}. Contact the moderators.")


def clean_snowflake(field: str, value: object) -> str:
    """A Discord id: digits only, as text (JSON numbers lose precision past 2**53)."""
    text = (
        str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    )
    if not text.isdigit() or not 1 <= len(text) <= 20:
        label = SNOWFLAKE_LABELS.get(field, "A Discord id")
        raise FieldError(field, f"{label} must be up to 20 digits, not {value!r}.")
    return text


def _free_username(wanted: str, discord_id: str) -> str:
    wanted = " ".join(wanted.split())[:120] or f"discord-{discord_id}"
    if not User.objects.filter(username=wanted).exclude(discord_id=discord_id).exists():
        return wanted
    return f"{wanted}-{discord_id}"


def get_or_create_discord_user(discord_id: str, username: str = "") -> tuple[User, bool]:
    """The account for a Discord id, created on first use with an unusable password."""
    discord_id = clean_snowflake("discord_id", discord_id)
    user = User.objects.filter(discord_id=discord_id).first()
    if user is not None:
        wanted = " ".join(username.split())
        if wanted and user.username != wanted and not User.objects.filter(username=wanted).exists():
            user.username = wanted
            user.save(update_fields=["username"])
        return user, False
    user = User(discord_id=discord_id, username=_free_username(username, discord_id))
    user.set_unusable_password()
    user.save()
    return user, True


def set_destination(user: User, kind: str, channel_id: str = "", guild_id: str = "") -> User:
    """Route the user's alerts to their DM or a channel.

    Choosing a destination, even the same one again, also clears what delivery
    learned about the old one (DMs closed, channel broken): the user says "try again".
    """
    if kind == User.Destination.DM:
        channel_id = guild_id = ""
    elif kind == User.Destination.CHANNEL:
        channel_id = clean_snowflake("channel_id", channel_id)
        guild_id = clean_snowflake("guild_id", guild_id)
    else:
        raise FieldError("destination", f"The destination must be “dm” or “channel”, not {kind!r}.")
    user.destination_kind, user.destination_channel_id, user.destination_guild_id = (
        kind,
        channel_id,
        guild_id,
    )
    user.dm_unreachable_reason = user.channel_broken_reason = user.delivery_notice = ""
    user.save(
        update_fields=[
            "destination_kind",
            "destination_channel_id",
            "destination_guild_id",
            "dm_unreachable_reason",
            "channel_broken_reason",
            "delivery_notice",
        ]
    )
    return user


LONGEST_MUTE = timedelta(days=30)


def mute_alerts(user: User, until: datetime | None) -> User:
    """Skip the user's alerts until `until` (None: unmute), for at most LONGEST_MUTE."""
    now = timezone.now()
    if until is not None and until <= now:
        raise FieldError("duration", "The mute must end in the future.")
    if until is not None and until > now + LONGEST_MUTE:
        raise FieldError("duration", f"The longest mute is {LONGEST_MUTE.days} days.")
    user.muted_until = until
    user.save(update_fields=["muted_until"])
    return user


def set_digest(user: User, digest: str) -> User:
    """Send alerts at once (instant) or collected once an hour or once a day."""
    if digest not in User.Digest.values:
        choices = ", ".join(User.Digest.values)
        raise FieldError("digest", f"The digest must be one of {choices}, not {digest!r}.")
    user.digest = digest
    user.save(update_fields=["digest"])
    return user


def ban_user(user: User, reason: str = "") -> None:
    """Stop everything for the user: their filters leave the index, pending alerts are skipped."""
    from alerts import outbox

    with transaction.atomic():
        user.is_banned, user.banned_at, user.ban_reason = True, timezone.now(), reason[:200]
        user.save(update_fields=["is_banned", "banned_at", "ban_reason"])
        outbox.skip_pending_of(user.pk, outbox.BANNED)
        bump_index_version()


def unban_user(user: User) -> None:
    with transaction.atomic():
        user.is_banned, user.banned_at, user.ban_reason = False, None, ""
        user.save(update_fields=["is_banned", "banned_at", "ban_reason"])
        bump_index_version()


# -- delivery state, written by the alert sender ---------------------------------------


def remember_dm_channel(user_id: int, channel_id: str) -> None:
    """The user's DM channel, opened once and reused for every later alert."""
    User.objects.filter(pk=user_id).update(dm_channel_id=channel_id)


def mark_dm_unreachable(user_id: int, reason: str) -> None:
    """Discord refused a DM (closed, blocked, no shared server): stop trying until the user
    chooses a destination again."""
    User.objects.filter(pk=user_id).update(dm_unreachable_reason=reason[:200])


def mark_channel_broken(channel_id: str, reason: str) -> None:
    """The channel is gone or closed to the bot: everybody routed there gets their alerts by
    DM, the first one with a note saying why, until they choose a destination again."""
    notice = (
        f"⚠️ Your alerts could not be posted in <#{channel_id}> ({reason}), so they come here "
        "by direct message. Choose a channel again with /alerts channel once it is fixed."
    )
    User.objects.filter(
        destination_kind=User.Destination.CHANNEL,
        destination_channel_id=channel_id,
        channel_broken_reason="",
    ).update(channel_broken_reason=reason[:200], delivery_notice=notice[:500])


def clear_delivery_notice(user_id: int, notice: str) -> None:
    """The note was delivered; a newer one set meanwhile stays."""
    User.objects.filter(pk=user_id, delivery_notice=notice).update(delivery_notice="")
