"""Every write to users: Discord identities, alert destinations, bans, sessions.

A banned user's own writes (destination, mute, digest, imports) are refused here;
staff actions (ban, unban: alerts/moderation.py) and the sender's delivery state
at the end are not the user's writes and work whoever the user is.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone

from lib.bulk import insert_rows
from lib.errors import Banned, FieldError, NotFound, QuotaExceeded
from lib.text import refused_character, strip_invisible
from users.models import ApiToken, KeptBan, User

# Each Discord id as people read it, and what to say when it is missing.
SNOWFLAKE_LABELS = {
    "discord_id": ("The Discord user id", "Give the Discord user id."),
    "channel_id": ("The channel id", "Give the channel id."),
    "guild_id": ("The server (guild) id", "Give the server (guild) id of the channel."),
}
LARGEST_SNOWFLAKE = 2**64 - 1
_ASCII_DIGITS = re.compile("[0-9]+")
# Usernames are cut to leave room for the "-<discord id>" that makes a taken one free
# (User.username holds 150).
MAX_USERNAME = 120
# What choosing a destination writes: the destination, and what delivery learned of the old one.
DESTINATION_FIELDS = [
    "destination_kind",
    "destination_channel_id",
    "destination_guild_id",
    "dm_unreachable_reason",
    "channel_broken_reason",
    "delivery_notice",
]


def check_not_banned(user: User, consequence: str) -> None:
    """Refuse a banned user's request, saying what the suspension stops."""
    if user.is_banned:
        raise Banned(f"Your account is suspended, so {consequence}. Contact the moderators.")


def clean_snowflake(field: str, value: object) -> str:
    """A Discord id (a snowflake: 1 ≤ id < 2**64) as text in its plain form; JSON numbers
    are accepted too, though JavaScript loses their precision past 2**53."""
    label, missing = SNOWFLAKE_LABELS.get(field, ("The Discord id", "Give the Discord id."))
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldError(field, missing)
    text = (
        str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    )
    if not _ASCII_DIGITS.fullmatch(text):
        raise FieldError(
            field, f"{label} must be a number written with the digits 0-9, not {value!r}."
        )
    if len(text) > 20 or not 1 <= int(text) <= LARGEST_SNOWFLAKE:
        raise FieldError(
            field, f"{label} must be between 1 and {LARGEST_SNOWFLAKE}, not {value!r}."
        )
    return str(int(text))  # without leading zeros: one id, one spelling


def clean_username(value: object) -> str:
    """A username as stored: text, white space tidied, cut to MAX_USERNAME; "" when none."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldError("username", f"The username must be text, not {value!r}.")
    if why := refused_character(value):
        raise FieldError("username", f"The username contains {why}; remove it.")
    return " ".join(strip_invisible(value).split())[:MAX_USERNAME].strip()


def _free_username(wanted: str, discord_id: str) -> str:
    """`wanted` if nobody else has it, else made unique with the Discord id."""
    wanted = wanted or f"discord-{discord_id}"
    if not User.objects.filter(username=wanted).exclude(discord_id=discord_id).exists():
        return wanted
    return f"{wanted}-{discord_id}"


def _needs_rename(user: User, wanted: str, discord_id: str) -> bool:
    """A known user's name follows their Discord name, unless a ban froze it."""
    unchanged = user.username in (wanted, f"{wanted}-{discord_id}")
    return bool(wanted) and not unchanged and not user.is_banned


def get_or_create_discord_user(discord_id: object, username: object = "") -> tuple[User, bool]:
    """The account for a Discord id, created on first use with an unusable password.

    A known user's name follows their Discord name, cut and made unique like a new one;
    a banned user's stays as the moderators saw it.
    """
    discord_id = clean_snowflake("discord_id", discord_id)
    wanted = clean_username(username)
    user = User.objects.filter(discord_id=discord_id).first()
    if user is not None:
        # The usual case, a name unchanged since last time, costs no query.
        if _needs_rename(user, wanted, discord_id):
            renamed = _free_username(wanted, discord_id)
            if renamed != user.username:
                user.username = renamed
                user.save(update_fields=["username"])
        return user, False
    user = User(discord_id=discord_id, username=_free_username(wanted, discord_id))
    if kept := KeptBan.objects.filter(discord_id=discord_id).first():
        user.is_banned, user.banned_at, user.ban_reason = True, kept.banned_at, kept.reason
    user.set_unusable_password()
    user.save()
    return user, True


def _unusable_password() -> str:
    """What set_unusable_password() stores (the prefix, then random text), from 30 random
    bytes at once: Django draws its 40 characters one call each, slow for 20,000 accounts."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


class _NameHolders:
    """Who holds each username a batch may ask for, kept up to date as the batch hands
    names out: what `_free_username` would read from the table at each step."""

    def __init__(self, names: set[str]) -> None:
        # A holder without a Discord id (a staff account) holds its name against everybody.
        self.holders = {
            name: holder or ""
            for name, holder in User.objects.filter(username__in=names).values_list(
                "username", "discord_id"
            )
        }

    def free(self, wanted: str, discord_id: str) -> str:
        wanted = wanted or f"discord-{discord_id}"
        if self.holders.get(wanted, discord_id) == discord_id:
            return wanted
        return f"{wanted}-{discord_id}"

    def move(self, discord_id: str, old: str | None, new: str) -> None:
        if old is not None and self.holders.get(old) == discord_id:
            del self.holders[old]
        self.holders[new] = discord_id


def import_discord_accounts(
    accounts: Sequence[tuple[str, str, tuple[str, str, str]]], known: Mapping[str, User]
) -> list[tuple[User, bool]]:
    """Many accounts at once, each with its destination: the same rows and names as
    `get_or_create_discord_user` then `set_destination` for each in turn, in a few queries.

    `accounts` are clean (Discord id, username, destination), each id once and none of a
    banned user; `known` holds the stored accounts among them, read (and locked) by the
    caller in its transaction. Returns (account, created) in the order given.
    """
    holders = _NameHolders(
        {wanted or f"discord-{discord_id}" for discord_id, wanted, _ in accounts}
    )
    made: list[User] = []
    renamed: list[User] = []
    moved: dict[tuple[str, ...], list[int]] = defaultdict(list)  # destination → who moves there
    result: list[tuple[User, bool]] = []
    now = timezone.now()
    for discord_id, wanted, destination in accounts:
        user = known.get(discord_id)
        created = user is None
        if user is None:
            user = User(
                discord_id=discord_id,
                username=holders.free(wanted, discord_id),
                password=_unusable_password(),
                date_joined=now,
            )
            holders.move(discord_id, None, user.username)
            made.append(user)
        elif _needs_rename(user, wanted, discord_id):
            new_name = holders.free(wanted, discord_id)
            holders.move(discord_id, user.username, new_name)
            user.username = new_name
            renamed.append(user)
        # Choosing a destination also clears what delivery learned about the old one.
        values = (*destination, "", "", "")
        if not created and tuple(getattr(user, f) for f in DESTINATION_FIELDS) != values:
            moved[values].append(user.pk)
        for name, value in zip(DESTINATION_FIELDS, values, strict=True):
            setattr(user, name, value)
        result.append((user, created))
    # Renames one by one in the order given, as each was free then; they are rare, and
    # they only free names, which the new accounts may take.
    for user in renamed:
        User.objects.filter(pk=user.pk).update(username=user.username)
    # Most users share a destination (a DM, a server's channel): one UPDATE each.
    for destination_values, pks in moved.items():
        User.objects.filter(pk__in=pks).update(
            **dict(zip(DESTINATION_FIELDS, destination_values, strict=True))
        )
    _insert_accounts(made)
    return result


def _insert_accounts(users: list[User]) -> None:
    """bulk_create, faster: the accounts' values, prepared as bulk_create prepares them,
    go in through COPY on PostgreSQL and one prepared INSERT elsewhere; then one query
    reads the new ids.

    bulk_create prepares two dozen values an account, one by one, and an import creates
    tens of thousands; here a column that holds one value for everybody (most are
    defaults) is prepared once. Columns with a database default the accounts leave
    unset are left to the database, as bulk_create leaves them.
    """
    if not users:
        return
    fields = [
        f
        for f in User._meta.concrete_fields
        if not f.primary_key and not isinstance(getattr(users[0], f.attname), DatabaseDefault)
    ]
    columns: list[list] = []
    for f in fields:
        values = [f.pre_save(user, True) for user in users]
        if all(value == values[0] for value in values):
            columns.append([f.get_db_prep_save(values[0], connection)] * len(users))
        else:
            columns.append([f.get_db_prep_save(value, connection) for value in values])
    quote = connection.ops.quote_name
    insert_rows(
        quote(User._meta.db_table),
        [quote(f.column) for f in fields],
        zip(*columns, strict=True),
    )
    ids = dict(
        User.objects.filter(discord_id__in=[user.discord_id for user in users]).values_list(
            "discord_id", "pk"
        )
    )
    for user in users:
        user.pk = ids[user.discord_id]
        user._state.adding = False
        user._state.db = connection.alias


def clean_destination(
    kind: object, channel_id: object = "", guild_id: object = ""
) -> tuple[str, str, str]:
    """A destination as stored: ("dm", "", "") or ("channel", channel id, server id)."""
    if isinstance(kind, str) and kind == User.Destination.DM:
        return kind, "", ""
    if isinstance(kind, str) and kind == User.Destination.CHANNEL:
        return (
            kind,
            clean_snowflake("channel_id", channel_id),
            clean_snowflake("guild_id", guild_id),
        )
    raise FieldError("destination", f"The destination must be “dm” or “channel”, not {kind!r}.")


def set_destination(user: User, kind: str, channel_id: str = "", guild_id: str = "") -> User:
    """Route the user's alerts to their DM or a channel.

    Choosing a destination, even the same one again, also clears what delivery
    learned about the old one (DMs closed, channel broken): the user says "try again".
    """
    check_not_banned(user, "your alert destination can't be changed")
    kind, channel_id, guild_id = clean_destination(kind, channel_id, guild_id)
    user.destination_kind, user.destination_channel_id, user.destination_guild_id = (
        kind,
        channel_id,
        guild_id,
    )
    user.dm_unreachable_reason = user.channel_broken_reason = user.delivery_notice = ""
    user.save(update_fields=DESTINATION_FIELDS)
    return user


LONGEST_MUTE = timedelta(days=30)


def check_mute_until(until: datetime | None, field: str = "duration") -> None:
    """The mute's own rule: it ends in the future, at most LONGEST_MUTE ahead (None: unmuted)."""
    if until is None:
        return
    now = timezone.now()
    if until <= now:
        raise FieldError(field, "The mute must end in the future.")
    if until > now + LONGEST_MUTE:
        raise FieldError(field, f"The longest mute is {LONGEST_MUTE.days} days.")


def mute_alerts(user: User, until: datetime | None, field: str = "duration") -> User:
    """Skip the user's alerts until `until` (None: unmute), for at most LONGEST_MUTE.

    `field` names the input in errors: the bot's `duration`, the API's `muted_until`."""
    check_not_banned(user, "your alerts can't be muted or unmuted")
    check_mute_until(until, field)
    user.muted_until = until
    user.save(update_fields=["muted_until"])
    return user


def set_digest(user: User, digest: str) -> User:
    """Send alerts at once (instant) or collected once an hour or once a day."""
    check_not_banned(user, "your alert timing can't be changed")
    if digest not in User.Digest.values:
        choices = ", ".join(User.Digest.values)
        raise FieldError("digest", f"The digest must be one of {choices}, not {digest!r}.")
    user.digest = digest
    user.save(update_fields=["digest"])
    return user


def record_ban(user: User, reason: str) -> None:
    """Mark the user banned. Only the account: `alerts.moderation.ban_user` is the staff
    action, which also takes their filters out of matching and skips their pending alerts."""
    user.is_banned, user.banned_at, user.ban_reason = True, timezone.now(), reason[:200]
    user.save(update_fields=["is_banned", "banned_at", "ban_reason"])


def record_unban(user: User) -> None:
    """Clear the ban on the account (`alerts.moderation.unban_user` is the staff action),
    and the ban a deleted account of theirs left behind."""
    user.is_banned, user.banned_at, user.ban_reason = False, None, ""
    user.save(update_fields=["is_banned", "banned_at", "ban_reason"])
    if user.discord_id:
        KeptBan.objects.filter(discord_id=user.discord_id).delete()


def keep_ban(user: User) -> None:
    """Before a banned account is deleted: keep its ban by Discord id (KeptBan)."""
    if user.is_banned and user.discord_id:
        KeptBan.objects.update_or_create(
            discord_id=user.discord_id,
            defaults={"reason": user.ban_reason, "banned_at": user.banned_at},
        )


def kept_bans(discord_ids: Sequence[str]) -> set[str]:
    """Which of these Discord ids belonged to a deleted account that was banned."""
    return set(
        KeptBan.objects.filter(discord_id__in=discord_ids).values_list("discord_id", flat=True)
    )


def end_sessions(user_id: int) -> int:
    """Sign the user out everywhere: delete their sessions; return how many.

    Sessions are found by reading each unexpired one, as they are not indexed by user:
    seconds for a million sessions, for something as rare as deleting an account.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    unexpired = Session.objects.filter(expire_date__gt=timezone.now())
    for key, data in unexpired.values_list("session_key", "session_data").iterator():
        if store().decode(data).get(SESSION_KEY) == str(user_id):
            store(key).delete()  # its cached copy too, with the cached_db engine
            ended += 1
    return ended


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


# -- personal API tokens -----------------------------------------------------------------

TOKEN_PREFIX = "mat_"  # "market alerts token": recognisable in a leaked config or a log
MAX_TOKENS = 20
# last_used_at is written at most this often per token, not on every request.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def hash_token(secret: str) -> str:
    """What is stored of a token: its SHA-256 (a token is 256 random bits, so no salt)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def clean_token_name(value: object) -> str:
    if not isinstance(value, str) or not " ".join(value.split()):
        raise FieldError("name", "Give the token a name, such as “laptop script”.")
    if why := refused_character(value):
        raise FieldError("name", f"The name contains {why}; remove it.")
    name = " ".join(strip_invisible(value).split())
    if not name:
        raise FieldError("name", "The name is made only of invisible characters.")
    if len(name) > 64:
        raise FieldError("name", f"The name is {len(name):,} characters long; keep it to 64.")
    return name


def create_token(user: User, name: object) -> tuple[ApiToken, str]:
    """A new token for the user and its secret, which is not stored and can't be shown again."""
    check_not_banned(user, "you can't create API tokens")
    name = clean_token_name(name)
    with transaction.atomic():
        # The user's row is locked so two requests can't both take the last free place.
        User.objects.select_for_update().filter(pk=user.pk).first()
        taken = ApiToken.objects.owned_by(user).filter(name__iexact=name).first()
        if taken is not None:
            raise FieldError(
                "name",
                f"You already have a token named “{taken.name}”; give this one another name.",
            )
        if ApiToken.objects.owned_by(user).count() >= MAX_TOKENS:
            raise QuotaExceeded(
                f"You have {MAX_TOKENS} API tokens, the most allowed; revoke one first."
            )
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(user=user, name=name, key_hash=hash_token(secret))
    return token, secret


def list_tokens(user: User) -> list[ApiToken]:
    return list(ApiToken.objects.owned_by(user))


def revoke_token(user: User, token_id: object) -> None:
    """Delete one of the user's tokens; requests carrying it fail from now on."""
    text = str(token_id)
    token = None
    if _ASCII_DIGITS.fullmatch(text) and len(text) < 19:  # a valid primary key, no overflow
        token = ApiToken.objects.owned_by(user).filter(pk=int(text)).first()
    if token is None:
        raise NotFound("No API token of yours has that id.")
    token.delete()


def use_token(secret: str) -> User | None:
    """The active user a token belongs to (noting when it was used), or None."""
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(secret)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
