"""Delivery through Discord's REST API with the bot token, paced to stay inside every limit.

Each request takes a slot of the global budget (alerts/ratelimit.py), and a
message also takes a unit of its channel's bucket (alerts/buckets.py). A DM
channel is opened once per user, on a budget of its own. Discord's answers
become outcomes the sender settles; every request is counted by what came of
it, every 429 by its scope (lib/metrics.py). What each answer leads to, and how
a post that got no answer is found again by its embeds rather than posted
twice, is told in docs/architecture.md (Sending, Posts that got no answer,
What Discord answers).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from datetime import timedelta
from typing import Any

import aiohttp
from django.conf import settings
from django.utils import timezone

from alerts.buckets import make_buckets
from alerts.ratelimit import make_budget
from alerts.transports.base import Outcome, Outgoing, Result, Transport
from lib import metrics
from lib.pacing import take_slot

log = logging.getLogger(__name__)

USER_AGENT = "DiscordBot (https://github.com/marketplace-alerts/marketplace-alerts, 1.0)"
DM_OPEN_ROUTE = "users/@me/channels"
UNAUTHORIZED_PAUSE_SECONDS = 60.0
INVALID_WINDOW_SECONDS = 600.0  # Discord bans an IP after 10,000 invalid requests in 10 minutes

DM_UNREACHABLE = {
    50007: "the user's DMs are closed or they blocked the bot",
    50278: "the user shares no server with the bot",
    10003: "the DM channel no longer exists",
    10013: "the Discord account no longer exists",
}
CHANNEL_BROKEN = {
    10003: "the channel no longer exists",
    50001: "the bot cannot see the channel",
    50013: "the bot may not post in the channel",
    50008: "the channel is not a text channel",
}
TEMPORARY = {20016, 20028, 40004, 130000}  # slowmode, write limit, sending disabled, overloaded
INVALID_PAYLOAD = {50035, 50006}
DMS_TOO_FAST = 40003
RECENT_MESSAGES = 50  # how far back a channel is searched for a message posted unanswered


class DiscordTransport(Transport):
    name = "discord"
    talks_to_discord = True

    def __init__(self) -> None:
        super().__init__()
        self.base_url = settings.DISCORD_API_BASE
        self.token = settings.DISCORD_BOT_TOKEN
        self.concurrency = settings.DISCORD_MAX_IN_FLIGHT
        self.budget = make_budget(settings.DISCORD_REQUESTS_PER_SECOND, "global-budget")
        self.dm_budget = make_budget(settings.DISCORD_DM_OPENS_PER_SECOND, "dm-opens")
        self.buckets = make_buckets()
        self._paused_until = 0.0
        self._invalid: deque[float] = deque()
        self.invalid_limit = settings.DISCORD_INVALID_REQUESTS_LIMIT
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            headers={"Authorization": f"Bot {self.token}", "User-Agent": USER_AGENT},
            timeout=aiohttp.ClientTimeout(total=settings.DISCORD_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(limit=self.concurrency * 2),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def wait_for(self, outgoing: Outgoing) -> float:
        if outgoing.channel_id:
            wait = self.buckets.wait(message_route(outgoing.channel_id))
            if self._past_nonce_window(outgoing):  # the channel is read first
                wait = max(wait, self.buckets.wait(read_route(outgoing.channel_id)))
            return wait
        return max(self.dm_budget.peek(), self.buckets.wait(DM_OPEN_ROUTE))

    async def send(self, outgoing: Outgoing) -> Outcome:
        opened = ""
        if not outgoing.channel_id:
            outcome = await self._open_dm(outgoing.recipient_id)
            if outcome.result is not Result.SENT:
                return outcome
            opened = outgoing.channel_id = outcome.message_id
        elif self._past_nonce_window(outgoing):
            found = await self._find_posted(outgoing)
            if found is not None:
                return found
        outcome = await self._post_message(outgoing)
        outcome.opened_channel_id = opened
        return outcome

    async def _open_dm(self, recipient_id: str) -> Outcome:
        """Open (or find) the DM channel; a SENT outcome carries its id as `message_id`."""
        await take_slot(self.dm_budget)
        answer = await self._request(DM_OPEN_ROUTE, "users/@me/channels", recipient_id=recipient_id)
        if isinstance(answer, Outcome):
            answer.ambiguous = False  # opening a DM twice opens nothing new
            return answer
        status, body = answer
        code = body.get("code")
        if code == DMS_TOO_FAST:
            pause = settings.DISCORD_DM_OPEN_BACKOFF_SECONDS
            log.warning("Discord says DMs are opened too fast; pausing DM opens for %.0fs", pause)
            self.dm_budget.block(pause)
            return Outcome(Result.RATE_LIMITED, retry_after=pause)
        if code in DM_UNREACHABLE:
            return Outcome(Result.DM_UNREACHABLE, error=describe(code, DM_UNREACHABLE))
        return self._other_failure(status, body)

    async def _post_message(self, outgoing: Outgoing) -> Outcome:
        answer = await self._request(
            message_route(outgoing.channel_id),
            f"channels/{outgoing.channel_id}/messages",
            **outgoing.message.payload(),
        )
        if isinstance(answer, Outcome):
            return answer
        status, body = answer
        code = body.get("code")
        if outgoing.route.is_dm and code in DM_UNREACHABLE:
            return Outcome(Result.DM_UNREACHABLE, error=describe(code, DM_UNREACHABLE))
        if not outgoing.route.is_dm and code in CHANNEL_BROKEN:
            return Outcome(Result.CHANNEL_BROKEN, error=describe(code, CHANNEL_BROKEN))
        if status == 400 and code in INVALID_PAYLOAD:
            errors = describe_form_errors(body.get("errors", {})) or body.get("message", "")
            return Outcome(Result.INVALID, error=f"Discord rejected the message ({code}): {errors}")
        outcome = self._other_failure(status, body)
        outcome.ambiguous = status >= 500  # a proxy's 5xx may hide a posted message
        return outcome

    @staticmethod
    def _past_nonce_window(outgoing: Outgoing) -> bool:
        since = outgoing.ambiguous_since
        window = timedelta(seconds=settings.ALERTS_NONCE_WINDOW_SECONDS)
        return since is not None and timezone.now() - since > window

    async def _find_posted(self, outgoing: Outgoing) -> Outcome | None:
        """Look for an unanswered earlier post of this message among the channel's latest.

        A SENT outcome with the message's id when it is there; None when it is not
        (it may be posted); a RETRY or RATE_LIMITED outcome when the channel could
        not be read, so nothing is posted blind.
        """
        answer = await self._request(
            read_route(outgoing.channel_id),
            f"channels/{outgoing.channel_id}/messages",
            method="GET",
            params={"limit": str(RECENT_MESSAGES)},
        )
        if isinstance(answer, Outcome):
            return answer
        status, body = answer
        if status != 200 or not isinstance(body, list):
            outcome = self._other_failure(status, body if isinstance(body, dict) else {})
            if outcome.result is Result.FAILED:  # the channel is gone or closed: the post will say
                return None
            return outcome
        payload = outgoing.message.payload()
        ours = fingerprint(payload["embeds"])
        for message in body:
            if message.get("nonce") == payload["nonce"] or (
                ours and fingerprint(message.get("embeds") or []) == ours
            ):
                log.info(
                    "message %s to %s was posted though unanswered; not posting it again",
                    message["id"],
                    outgoing.route,
                )
                return Outcome(Result.SENT, message_id=str(message["id"]))
        return None

    def _other_failure(self, status: int, body: dict[str, Any]) -> Outcome:
        code = body.get("code")
        error = f"Discord answered {status}" + (
            f" ({code}: {body.get('message', '')})" if code else ""
        )
        if status >= 500 or code in TEMPORARY:
            return Outcome(Result.RETRY, error=error)
        if status == 401:
            # Every request would fail the same way and count as invalid: stop asking for a while.
            log.error("Discord does not accept DISCORD_BOT_TOKEN; pausing all requests")
            self._pause(UNAUTHORIZED_PAUSE_SECONDS)
            return Outcome(Result.RETRY, error="Discord does not accept the bot token")
        return Outcome(Result.FAILED, error=error)

    async def _keep_invalid_requests_under_limit(self) -> None:
        """Stop before this process alone nears Discord's invalid-request ban."""
        while True:
            now = time.monotonic()
            while self._invalid and self._invalid[0] <= now - INVALID_WINDOW_SECONDS:
                self._invalid.popleft()
            if len(self._invalid) < self.invalid_limit:
                return
            wait = self._invalid[0] + INVALID_WINDOW_SECONDS - now
            log.error(
                "%d refused requests (401/403/429) in 10 minutes; pausing %.0fs to stay far "
                "from Discord's ban at 10,000",
                len(self._invalid),
                wait,
            )
            await asyncio.sleep(wait)

    def _pause(self, seconds: float) -> None:
        """No request from any sender before `seconds` from now."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        self.budget.block(seconds)

    async def _request(
        self,
        route: str,
        path: str,
        method: str = "POST",
        params: dict[str, str] | None = None,
        **body: Any,
    ) -> tuple[int, Any] | Outcome:
        """POST (or GET) with a unit of the route's bucket and a global slot; release the
        route with what Discord said about it.

        Returns the outcome of a successful POST (the new object's id as
        `message_id`), a 429 or a connection failure; for any other answer,
        (status, JSON body).
        """
        if wait := self.buckets.try_acquire(route):
            return Outcome(Result.RATE_LIMITED, retry_after=wait)
        await take_slot(self.budget)
        # A global 429 may have come while this request waited for its slot.
        while (paused := self._paused_until - time.monotonic()) > 0:
            await asyncio.sleep(paused)
        await self._keep_invalid_requests_under_limit()
        self.counters.requests += 1
        try:
            async with self._session.request(  # type: ignore[union-attr]  # opened by start()
                method, f"{self.base_url}/{path}", params=params, json=body if body else None
            ) as response:
                status, headers = response.status, response.headers
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = {}
        except (aiohttp.ClientError, TimeoutError) as error:
            metrics.discord_requests.labels("network_error").inc()
            self.buckets.release(route, 0, {})
            # Only a connection that never opened surely carried nothing.
            sent = not isinstance(error, aiohttp.ClientConnectorError)
            return Outcome(Result.RETRY, error=f"no answer from Discord: {error!r}", ambiguous=sent)
        metrics.discord_requests.labels(request_outcome(status)).inc()
        if not isinstance(answer, dict) and not (method == "GET" and isinstance(answer, list)):
            answer = {}
        if status in (401, 403) or (status == 429 and headers.get("X-RateLimit-Scope") != "shared"):
            self._invalid.append(time.monotonic())
        if status != 429:
            self.buckets.release(route, status, headers)
            if status == 200 and method == "POST":
                return Outcome(Result.SENT, message_id=str(answer["id"]))
            return status, answer
        answer = answer if isinstance(answer, dict) else {}
        retry_after = float(answer.get("retry_after") or headers.get("Retry-After") or 1.0)
        scope = headers.get("X-RateLimit-Scope") or "user"
        if answer.get("global") or headers.get("X-RateLimit-Global", "").lower() == "true":
            scope = "global"  # whatever the scope header says, the whole token waits
        self.counters.rate_limited[scope] += 1
        # "user" and "shared" limit one bucket of one route.
        metrics.discord_rate_limited.labels("global" if scope == "global" else "route").inc()
        self.buckets.release(route, status, headers, retry_after)
        if scope == "global":
            self._pause(retry_after)
        log.info("429 (%s) on %s: waiting %.2fs", scope, route, retry_after)
        return Outcome(Result.RATE_LIMITED, retry_after=retry_after)


def request_outcome(status: int) -> str:
    """The metrics' name for what Discord answered (one of lib.metrics.DISCORD_OUTCOMES)."""
    if 200 <= status < 300:
        return "ok"
    if status == 429:
        return "rate_limited"
    if status in (401, 403):
        return "refused"
    if status >= 500:
        return "server_error"
    return "client_error"


def message_route(channel_id: str) -> str:
    return f"channels/{channel_id}/messages"


def read_route(channel_id: str) -> str:
    return f"GET channels/{channel_id}/messages"


def fingerprint(embeds: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What makes a message of alerts ours: each embed's listing URL (or, for a digest,
    its text) and the user it pings, in order."""
    result = []
    for embed in embeds:
        description = embed.get("description") or ""
        mention = description.split(" ", 1)[0] if description.startswith("<@") else ""
        result.append((embed.get("url") or description, mention))
    return result


def describe_form_errors(errors: Any, path: str = "") -> str:
    """A 400's nested `errors` as Discord sends them, one "where: what" per problem:
    "embeds.0.title: Must be 256 or fewer in length."."""
    if not isinstance(errors, dict):
        return f"{path or 'body'}: {errors}"
    found = []
    for key, value in errors.items():
        if key == "_errors" and isinstance(value, list):
            found += [
                f"{path or 'body'}: {item.get('message') if isinstance(item, dict) else item}"
                for item in value
            ]
        else:
            found.append(describe_form_errors(value, f"{path}.{key}" if path else str(key)))
    return "; ".join(found)


def describe(code: int, meanings: dict[int, str]) -> str:
    return f"{meanings[code]} (Discord error {code})"
