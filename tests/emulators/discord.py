"""A local Discord REST API emulator that enforces Discord's documented limits strictly.

For delivery tests and the delivery benchmark: the real sender talks HTTP to it
exactly as to discord.com (`DISCORD_API_BASE`). It enforces what
shared/discord-platform.md lists:
- the global limit, 50 requests per second per token, over any sliding second;
- per-channel message buckets (5 per 5 s), with X-RateLimit-* headers;
- 429 bodies with `retry_after` (float) and `global`, and the Retry-After,
  X-RateLimit-Global, X-RateLimit-Scope and Via headers;
- message limits (content, embed count and sizes), answered with 400/50035;
- `nonce` ≤ 25 characters and `enforce_nonce` de-duplication within a window;
- reading a channel's latest messages (`limit` 1–100, newest first), without
  their nonces, which Discord does not return on messages read back (!);
- error codes 10003 (unknown channel), 50013 (missing permissions), 50007 and
  50278 (DMs closed, no shared server), 40003 (opening DMs too fast);
- a configurable latency per request;
- the OAuth2 authorization-code flow of "Sign in with Discord": `oauth2/authorize`
  sends the browser straight back with a code for the user set by `sign_in_as`,
  `oauth2/token` checks the client id, secret, code and redirect URI, and
  `users/@me` answers for the Bearer token it gave (and for the bot's token).
Its answers are shaped as the response schemas of Discord's OpenAPI description
(../shared/discord/openapi.json; tests/emulators/test_emulator_spec.py checks
them), and 50035 errors are nested down to `_errors` as Discord sends them.
It records every message, counts responses by status and 429 scope and DM
opens by recipient, so tests assert what Discord would have shown and how
politely it was asked.

    python -m tests.emulators.discord --port 8089   # run it by hand
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import re
import secrets
import socket
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

GLOBAL_LIMIT = 50
APPLICATION_ID = "1000"
CHANNEL_LIMIT = 5
CHANNEL_WINDOW = 5.0
NONCE_WINDOW = 300.0
LIMITS = {
    "content": 2000,
    "embeds": 10,
    "total": 6000,
    "title": 256,
    "description": 4096,
    "fields": 25,
}
FIELD_LIMITS = {"name": 256, "value": 1024, "footer": 2048, "author": 256}


@dataclass
class Channel:
    id: str
    guild_id: str | None = None
    recipient_id: str | None = None
    can_send: bool = True


@dataclass
class EmulatorConfig:
    token: str = "test-token"
    global_limit: int = GLOBAL_LIMIT
    channel_limit: int = CHANNEL_LIMIT
    channel_window: float = CHANNEL_WINDOW
    # Seconds a request travels before Discord counts and acts on it (its jitter moves
    # arrivals within the global window), and seconds Discord then takes to answer.
    latency: tuple[float, float] = (0.0, 0.0)
    processing: tuple[float, float] = (0.0, 0.0)
    # Users whose DMs are closed (50007) or who share no server with the bot (50278).
    closed_dm_users: set[str] = field(default_factory=set)
    no_mutual_guild_users: set[str] = field(default_factory=set)
    # New DM channels allowed per second before 40003.
    dm_opens_per_second: int = 5
    # Channels whose messages are answered 400/50035, as if our payload were wrong.
    invalid_form_channels: set[str] = field(default_factory=set)
    # How many message posts to answer with 502 before accepting again.
    failing_message_posts: int = 0
    # How long a nonce is remembered for `enforce_nonce` ("a few minutes" at Discord).
    nonce_window: float = NONCE_WINDOW
    # The OAuth2 application "Sign in with Discord" uses (its client id is the application id).
    client_id: str = APPLICATION_ID
    client_secret: str = "test-client-secret"


class SlidingWindow:
    """Timestamps of accepted requests within the last `window` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window, self.times = limit, window, deque()

    def _trim(self, now: float) -> None:
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()

    def retry_after(self, now: float) -> float:
        """0 when a request may pass now, else seconds until it may."""
        self._trim(now)
        if len(self.times) < self.limit:
            return 0.0
        return self.times[0] + self.window - now

    def take(self, now: float) -> None:
        self.times.append(now)

    def remaining(self, now: float) -> int:
        self._trim(now)
        return self.limit - len(self.times)

    def reset_after(self, now: float) -> float:
        self._trim(now)
        return self.times[0] + self.window - now if self.times else 0.0


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with Discord's exact content type (discord.py compares it as a whole string)."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


class DiscordEmulator:
    OAUTH_PATHS = ("/oauth2/authorize", "/oauth2/token")

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.channels: dict[str, Channel] = {}
        self.dm_of_user: dict[str, str] = {}
        self.messages: list[dict[str, Any]] = []
        self.received_payloads: list[dict[str, Any]] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or a guild id
        self.statuses: Counter[int] = Counter()
        self.rate_limited: Counter[str] = Counter()
        self.rate_limited_at: list[float] = []  # wall time of each 429
        self.error_codes: Counter[int] = Counter()
        self.dm_opens: Counter[str] = Counter()  # answered DM opens, by recipient
        self.reads: Counter[str] = Counter()  # reads of a channel's messages, by channel
        self.requests = 0
        self.request_times: list[float] = []
        self.max_requests_in_a_second = 0
        self._ids = itertools.count(1_100_000_000_000_000_000)
        self._global = SlidingWindow(self.config.global_limit, 1.0)
        self._accepted = deque()
        self._buckets: dict[str, SlidingWindow] = {}
        self._dm_opens = SlidingWindow(self.config.dm_opens_per_second, 1.0)
        self._nonces: dict[tuple[str, str], tuple[float, dict]] = {}
        # A message refused with 429 must not come back (same nonce) before its retry_after.
        self._not_before: dict[str, float] = {}
        self.early_retries = 0
        # OAuth2: the user who approves the next authorization, codes not yet exchanged
        # (code -> (user, redirect_uri)), and access tokens (token -> user).
        self.oauth_user: dict[str, Any] | None = None
        self.oauth_codes: dict[str, tuple[dict[str, Any], str]] = {}
        self.oauth_tokens: dict[str, dict[str, Any]] = {}
        self.oauth_scopes: list[str] = []  # the scope of each authorization asked for

    # -- setup helpers for tests ------------------------------------------------
    def add_channel(self, channel_id: str, guild_id: str = "1", can_send: bool = True) -> None:
        self.channels[channel_id] = Channel(channel_id, guild_id=guild_id, can_send=can_send)

    def add_dm(self, user_id: str) -> str:
        """An already opened DM channel with the user; returns its id."""
        channel_id = str(next(self._ids))
        self.channels[channel_id] = Channel(channel_id, recipient_id=user_id)
        self.dm_of_user[user_id] = channel_id
        return channel_id

    def sign_in_as(
        self, user_id: str, username: str = "alice", global_name: str | None = None
    ) -> None:
        """The Discord user who approves the next "Sign in with Discord"; None: they cancel."""
        self.oauth_user = {
            "id": str(user_id),
            "username": username,
            "discriminator": "0",
            "global_name": global_name,
            "avatar": None,
            "mfa_enabled": False,
            "locale": "en-US",
            "flags": 0,
            "premium_type": 0,
            "public_flags": 0,
        }

    def messages_in(self, channel_id: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["channel_id"] == channel_id]

    @property
    def invalid_requests(self) -> int:
        """401, 403 and 429 responses (shared-scope 429s excepted), as Cloudflare counts them."""
        return (
            self.statuses[401]
            + self.statuses[403]
            + self.statuses[429]
            - self.rate_limited["shared"]
        )

    # -- the HTTP application -----------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/api/v10/users/@me", self._me)
        app.router.add_get("/api/v10/oauth2/applications/@me", self._application)
        app.router.add_get("/api/v10/oauth2/authorize", self._authorize)
        app.router.add_post("/api/v10/oauth2/token", self._token)
        app.router.add_put("/api/v10/applications/{app_id}/commands", self._put_commands)
        app.router.add_put(
            "/api/v10/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands
        )
        app.router.add_post("/api/v10/users/@me/channels", self._open_dm)
        app.router.add_post("/api/v10/channels/{channel_id}/messages", self._create_message)
        app.router.add_get("/api/v10/channels/{channel_id}/messages", self._get_messages)
        return app

    def _error(
        self, status: int, code: int, message: str, problems: dict[str, str] | None = None
    ) -> web.Response:
        self.error_codes[code] += 1
        body: dict[str, Any] = {"code": code, "message": message}
        if problems:
            body["errors"] = form_errors(problems)
        return json_response(body, status=status)

    def _too_many(
        self, retry_after: float, scope: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        self.rate_limited[scope] += 1
        self.rate_limited_at.append(time.time())
        is_global = scope == "global"
        body = {
            "code": 0,
            "message": "You are being rate limited.",
            "retry_after": round(retry_after, 3),
            "global": is_global,
        }
        all_headers = {
            "Retry-After": str(max(1, int(-(-retry_after // 1)))),
            "X-RateLimit-Scope": scope,
            **({"X-RateLimit-Global": "true"} if is_global else {}),
            **(headers or {}),
        }
        return json_response(body, status=429, headers=all_headers)

    @web.middleware
    async def _middleware(self, request: web.Request, handler) -> web.StreamResponse:
        # The request is whole before Discord acts on it: a client that dies while
        # waiting for the answer may have had its message posted anyway.
        await request.read()
        low, high = self.config.latency
        if high > 0:
            await asyncio.sleep(random.uniform(low, high))
        self.requests += 1
        self.request_times.append(time.monotonic())
        nonce = None
        if request.method == "POST" and request.path.endswith("/messages"):
            nonce = (await request.json()).get("nonce")
            if nonce is not None and time.monotonic() < self._not_before.get(str(nonce), 0.0):
                self.early_retries += 1
        authorization = request.headers.get("Authorization", "")
        bearer = authorization.startswith("Bearer ") and request.path.endswith("/users/@me")
        if request.path.endswith(self.OAUTH_PATHS) or bearer:
            # The OAuth2 flow: the browser and our server speak for a user, not the bot, so
            # the bot token's global limit does not apply (the handlers check who asks).
            response = await handler(request)
        elif authorization != f"Bot {self.config.token}":
            response = self._error(401, 0, "401: Unauthorized")
        else:
            now = time.monotonic()
            wait = self._global.retry_after(now)
            if wait > 0:
                response = self._too_many(wait, "global")
            else:
                self._global.take(now)
                self._accepted.append(now)
                while self._accepted[0] <= now - 1.0:
                    self._accepted.popleft()
                self.max_requests_in_a_second = max(
                    self.max_requests_in_a_second, len(self._accepted)
                )
                response = await handler(request)
        if response.status == 429 and nonce is not None:
            retry_after = float(json.loads(response.body)["retry_after"])
            self._not_before[str(nonce)] = time.monotonic() + retry_after
        low, high = self.config.processing
        if high > 0:
            await asyncio.sleep(random.uniform(low, high))
        response.headers["Via"] = "1.1 google"
        self.statuses[response.status] += 1
        return response

    async def _me(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Bearer "):
            user = self.oauth_tokens.get(authorization.removeprefix("Bearer "))
            if user is None:
                return self._error(401, 0, "401: Unauthorized")
            return json_response(user)
        return json_response(
            {**BOT_USER, "verified": True, "mfa_enabled": False, "locale": "en-US"}
        )

    async def _application(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "id": APPLICATION_ID,
                "name": "alerts-bot",
                "description": "",
                "icon": None,
                "type": None,
                "bot": BOT_USER,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": public_user("1001", "owner"),
                "verify_key": "0" * 64,
                "team": None,
                "flags": 0,
                "flags_new": "0",
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "approximate_guild_count": 1,
                "approximate_user_install_count": 0,
                "approximate_user_authorization_count": 0,
                "explicit_content_filter": 0,
                "eligible_oauth2_scopes": ["bot", "applications.commands"],
            }
        )

    async def _authorize(self, request: web.Request) -> web.Response:
        """The consent screen, approved at once by `oauth_user` (or cancelled without one)."""
        query = request.query
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.config.client_id:
            return self._error(400, 0, "Unknown Application")
        if query.get("response_type") != "code" or not redirect_uri:
            return self._error(400, 0, "Invalid OAuth2 request")
        scopes = query.get("scope", "").split()
        self.oauth_scopes.append(" ".join(scopes))
        if "identify" not in scopes:
            return self._error(400, 0, "Invalid scope")
        back = {"state": query["state"]} if "state" in query else {}
        if self.oauth_user is None:
            back = {"error": "access_denied", "error_description": "cancelled", **back}
        else:
            code = secrets.token_urlsafe(16)
            self.oauth_codes[code] = (dict(self.oauth_user), redirect_uri)
            back = {"code": code, **back}
        separator = "&" if "?" in redirect_uri else "?"
        return web.Response(
            status=302, headers={"Location": f"{redirect_uri}{separator}{urlencode(back)}"}
        )

    async def _token(self, request: web.Request) -> web.Response:
        """Exchange a code for an access token, as Discord checks it (RFC 6749 errors)."""
        form = await request.post()
        if (
            form.get("client_id") != self.config.client_id
            or form.get("client_secret") != self.config.client_secret
        ):
            return json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") != "authorization_code":
            return json_response({"error": "unsupported_grant_type"}, status=400)
        # A code is good once, and only with the redirect URI it was given for.
        code = str(form.get("code", ""))
        granted = self.oauth_codes.get(code)
        if granted is None or granted[1] != form.get("redirect_uri"):
            return json_response(
                {"error": "invalid_grant", "error_description": 'Invalid "code" in request.'},
                status=400,
            )
        del self.oauth_codes[code]
        token = secrets.token_urlsafe(24)
        self.oauth_tokens[token] = granted[0]
        return json_response(
            {
                "token_type": "Bearer",
                "access_token": token,
                "expires_in": 604800,
                "refresh_token": secrets.token_urlsafe(24),
                "scope": "identify",
            }
        )

    async def _put_commands(self, request: web.Request) -> web.Response:
        """Register (replace) the application commands, globally or in one guild."""
        scope = request.match_info.get("guild_id", "global")
        commands = await request.json()
        problems = command_problems(commands)
        if problems:
            return self._error(400, 50035, "Invalid Form Body", problems)
        registered = [
            {
                "type": 1,
                "default_member_permissions": None,
                **command,
                "id": str(next(self._ids)),
                "application_id": APPLICATION_ID,
                "version": str(next(self._ids)),
                **({} if scope == "global" else {"guild_id": scope}),
            }
            for command in commands
        ]
        self.commands[scope] = registered
        return json_response(registered)

    async def _open_dm(self, request: web.Request) -> web.Response:
        body = await request.json()
        recipient = str(body.get("recipient_id", ""))
        if recipient in self.dm_of_user:
            self.dm_opens[recipient] += 1
            return json_response(dm_channel(self.dm_of_user[recipient], recipient))
        now = time.monotonic()
        if self._dm_opens.retry_after(now) > 0:
            return self._error(400, 40003, "You are opening direct messages too fast.")
        self._dm_opens.take(now)
        self.dm_opens[recipient] += 1
        channel_id = str(next(self._ids))
        self.channels[channel_id] = Channel(channel_id, recipient_id=recipient)
        self.dm_of_user[recipient] = channel_id
        return json_response(dm_channel(channel_id, recipient))

    async def _create_message(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["channel_id"]
        payload = await request.json()
        self.received_payloads.append(payload)  # as sent, for checks against Discord's spec
        channel = self.channels.get(channel_id)
        if channel is None:
            return self._error(404, 10003, "Unknown Channel")
        if self.config.failing_message_posts > 0:
            self.config.failing_message_posts -= 1
            return json_response({"message": "Bad Gateway"}, status=502)
        bucket = self._buckets.setdefault(
            channel_id, SlidingWindow(self.config.channel_limit, self.config.channel_window)
        )
        now = time.monotonic()
        wait = bucket.retry_after(now)
        if wait > 0:
            return self._too_many(wait, "user", self._bucket_headers(bucket, channel_id, now))
        bucket.take(now)
        headers = self._bucket_headers(bucket, channel_id, now)
        if not channel.can_send:
            return self._error(403, 50013, "Missing Permissions")
        if channel.recipient_id in self.config.closed_dm_users:
            return self._error(403, 50007, "Cannot send messages to this user")
        if channel.recipient_id in self.config.no_mutual_guild_users:
            return self._error(403, 50278, "You do not share a mutual guild with this user")
        if channel_id in self.config.invalid_form_channels:
            problem = {"embeds.0.url": "Not a well formed URL."}
            return self._error(400, 50035, "Invalid Form Body", problem)
        problems = message_problems(payload)
        if problems == {"content": "empty"}:
            return self._error(400, 50006, "Cannot send an empty message")
        if problems:
            return self._error(400, 50035, "Invalid Form Body", problems)
        nonce = payload.get("nonce")
        if payload.get("enforce_nonce") and nonce is not None:
            seen = self._nonces.get((channel_id, str(nonce)))
            if seen and now - seen[0] < self.config.nonce_window:
                return json_response(seen[1], headers=headers)
        content = payload.get("content", "")
        message = {
            "type": 0,
            "id": str(next(self._ids)),
            "channel_id": channel_id,
            "author": BOT_USER,
            "content": content,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": pinged(content, payload.get("allowed_mentions")),
            "mention_roles": [],
            "attachments": [],
            "embeds": [{"type": "rich", **embed} for embed in payload.get("embeds", [])],
            "components": [],
            "pinned": False,
            "flags": 0,
            **({"nonce": nonce} if nonce is not None else {}),
            **({"guild_id": channel.guild_id} if channel.guild_id else {}),
        }
        # Kept beside the message, never answered: what was asked, and when Discord took it.
        self.messages.append(
            {
                **message,
                "allowed_mentions": payload.get("allowed_mentions"),
                "accepted_at": time.time(),
            }
        )
        if nonce is not None:
            self._nonces[(channel_id, str(nonce))] = (now, message)
        return json_response(message, headers=headers)

    async def _get_messages(self, request: web.Request) -> web.Response:
        channel = self.channels.get(request.match_info["channel_id"])
        if channel is None:
            return self._error(404, 10003, "Unknown Channel")
        if not channel.can_send:
            return self._error(403, 50001, "Missing Access")
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            problem = {"limit": "int value should be less than or equal to 100."}
            return self._error(400, 50035, "Invalid Form Body", problem)
        self.reads[channel.id] += 1
        latest = self.messages_in(channel.id)[-limit:][::-1]
        hidden = {"nonce", "allowed_mentions", "accepted_at"}
        return json_response([{k: v for k, v in m.items() if k not in hidden} for m in latest])

    def _bucket_headers(self, bucket: SlidingWindow, channel_id: str, now: float) -> dict[str, str]:
        reset_after = bucket.reset_after(now)
        return {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(bucket.remaining(now)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": f"messages-{channel_id}",
        }


def public_user(user_id: str, username: str, bot: bool = False) -> dict[str, Any]:
    """A user as Discord shows one user to another (the spec's UserResponse)."""
    user = {
        "id": user_id,
        "username": username,
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,
    }
    return {**user, "bot": True} if bot else user


BOT_USER = public_user(APPLICATION_ID, "alerts-bot", bot=True)
MENTION = re.compile(r"<@!?(\d+)>")


def dm_channel(channel_id: str, recipient_id: str) -> dict[str, Any]:
    return {
        "id": channel_id,
        "type": 1,
        "last_message_id": None,
        "flags": 0,
        "recipients": [public_user(recipient_id, f"user{recipient_id}")],
    }


def pinged(content: str, allowed_mentions: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The users a message's content pings: its <@id> mentions that allowed_mentions lets
    through (all of them without allowed_mentions)."""
    allowed = allowed_mentions or {"parse": ["users"]}
    ids = dict.fromkeys(MENTION.findall(content))
    if "users" not in allowed.get("parse", []):
        ids = {user_id: None for user_id in ids if user_id in allowed.get("users", [])}
    return [public_user(user_id, f"user{user_id}") for user_id in ids]


def form_errors(problems: dict[str, str]) -> dict[str, Any]:
    """A 50035's `errors` as Discord nests them: each dotted field path down to an
    `_errors` list of {code, message} (the code a string, e.g. BASE_TYPE_MAX_LENGTH;
    the spec's `Error` types it as an integer, which Discord does not send here)."""
    nested: dict[str, Any] = {}
    for path, message in problems.items():
        node = nested
        for part in path.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": _problem_code(message), "message": message})
    return nested


def _problem_code(message: str) -> str:
    if message.startswith("Embed size exceeds"):
        return "MAX_EMBED_SIZE_EXCEEDED"
    if "or fewer in length" in message:
        return "BASE_TYPE_MAX_LENGTH"
    if message.startswith("Must be between"):
        return "BASE_TYPE_BAD_LENGTH"
    if "URL" in message:
        return "URL_TYPE_INVALID_URL"
    if "less than or equal" in message:
        return "NUMBER_TYPE_MAX"
    return (
        "APPLICATION_COMMAND_INVALID_NAME" if "name is invalid" in message else "BASE_TYPE_INVALID"
    )


def _embed_size(embed: dict[str, Any]) -> int:
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += sum(len(f.get("name", "")) + len(f.get("value", "")) for f in embed.get("fields", []))
    size += len((embed.get("footer") or {}).get("text", "")) + len(
        (embed.get("author") or {}).get("name", "")
    )
    return size


def message_problems(payload: dict[str, Any]) -> dict[str, str]:
    """What Discord would reject in a message body, keyed by field path; empty when valid."""
    problems: dict[str, str] = {}
    content = payload.get("content") or ""
    embeds = payload.get("embeds") or []
    if not content and not embeds:
        return {"content": "empty"}
    if len(content) > LIMITS["content"]:
        problems["content"] = f"Must be {LIMITS['content']} or fewer in length."
    if len(embeds) > LIMITS["embeds"]:
        problems["embeds"] = f"Must be {LIMITS['embeds']} or fewer in length."
    if sum(_embed_size(e) for e in embeds) > LIMITS["total"]:
        problems.setdefault("embeds", f"Embed size exceeds maximum size of {LIMITS['total']}")
    for n, embed in enumerate(embeds):
        for key in ("title", "description"):
            if len(embed.get(key, "")) > LIMITS[key]:
                problems[f"embeds.{n}.{key}"] = f"Must be {LIMITS[key]} or fewer in length."
        if len(embed.get("fields", [])) > LIMITS["fields"]:
            problems[f"embeds.{n}.fields"] = f"Must be {LIMITS['fields']} or fewer in length."
        for m, item in enumerate(embed.get("fields", [])):
            for key in ("name", "value"):
                if len(item.get(key, "")) > FIELD_LIMITS[key]:
                    problems[f"embeds.{n}.fields.{m}.{key}"] = (
                        f"Must be {FIELD_LIMITS[key]} or fewer in length."
                    )
        if len((embed.get("footer") or {}).get("text", "")) > FIELD_LIMITS["footer"]:
            problems[f"embeds.{n}.footer.text"] = "Must be 2048 or fewer in length."
        if len((embed.get("author") or {}).get("name", "")) > FIELD_LIMITS["author"]:
            problems[f"embeds.{n}.author.name"] = "Must be 256 or fewer in length."
    nonce = payload.get("nonce")
    if nonce is not None and len(str(nonce)) > 25:
        problems["nonce"] = "Must be 25 or fewer in length."
    return problems


COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


def command_problems(commands: list[dict[str, Any]], path: str = "") -> dict[str, str]:
    """What Discord would reject in application commands: names, descriptions, counts."""
    problems: dict[str, str] = {}
    if len(commands) > 25 and path:
        problems[f"{path}options"] = "Must be 25 or fewer in length."
    for n, command in enumerate(commands):
        where = f"{path}{n}."
        name = command.get("name", "")
        if not COMMAND_NAME.match(name) or name != name.lower():
            problems[f"{where}name"] = "Command name is invalid"
        if not 1 <= len(command.get("description", "")) <= 100:
            problems[f"{where}description"] = "Must be between 1 and 100 in length."
        if len(command.get("choices", [])) > 25:
            problems[f"{where}choices"] = "Must be 25 or fewer in length."
        for m, choice in enumerate(command.get("choices", [])):
            if not 1 <= len(choice.get("name", "")) <= 100:
                problems[f"{where}choices.{m}.name"] = "Must be between 1 and 100 in length."
        problems.update(command_problems(command.get("options", []), f"{where}options."))
    return problems


class RunningEmulator:
    """The emulator served on 127.0.0.1 from a background thread, for synchronous tests."""

    def __init__(self, emulator: DiscordEmulator, port: int = 0) -> None:
        self.emulator = emulator
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def __enter__(self) -> RunningEmulator:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.emulator.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/api/v10"


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the Discord API emulator on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--token", default="test-token")
    parser.add_argument(
        "--channel", action="append", default=[], help="a guild channel id to create"
    )
    parser.add_argument("--client-secret", default=EmulatorConfig.client_secret)
    parser.add_argument(
        "--sign-in-as",
        metavar="ID:NAME",
        help='the Discord user who approves every "Sign in with Discord"',
    )
    args = parser.parse_args()
    if not port_is_free(args.port):
        sys.exit(f"port {args.port} is in use: stop what runs there, or choose another --port")
    emulator = DiscordEmulator(EmulatorConfig(token=args.token, client_secret=args.client_secret))
    for channel_id in args.channel:
        emulator.add_channel(channel_id)
    if args.sign_in_as:
        user_id, _, name = args.sign_in_as.partition(":")
        emulator.sign_in_as(user_id, name or "alice")
    print(f"Discord API emulator on http://127.0.0.1:{args.port}/api/v10 (token {args.token!r})")
    web.run_app(emulator.app(), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
