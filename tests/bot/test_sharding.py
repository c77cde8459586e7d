"""runbot's sharding: DISCORD_SHARD_COUNT and each process's DISCORD_SHARD_IDS (or --shards),
checked with errors that name the setting, and real runbot processes splitting the shards."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time

import pytest
from aiohttp import WSMsgType, web

from bot.client import AlertsBot, Sharding, ShardingError, sharding
from tests.emulators.discord import (
    APPLICATION_ID,
    DiscordEmulator,
    RunningEmulator,
    json_response,
)


@pytest.fixture
def shard_settings(settings):
    def use(count: int, ids: str = "") -> None:
        settings.DISCORD_SHARD_COUNT = count
        settings.DISCORD_SHARD_IDS = ids

    return use


def test_unset_the_bot_shards_automatically(shard_settings):
    shard_settings(0)
    assert sharding() == Sharding(None, None)
    bot = AlertsBot(sharding())
    assert (bot.shard_count, bot.shard_ids) == (None, None)  # discord.py asks Discord


def test_a_count_alone_runs_every_shard_and_ids_pick_this_process_share(shard_settings):
    shard_settings(4)
    assert sharding() == Sharding(4, None)
    assert sharding().describe() == "shards 0, 1, 2, 3 of 4"

    shard_settings(4, " 3, 1")
    assert sharding() == Sharding(4, (3, 1))
    assert sharding("0,2") == Sharding(4, (0, 2))  # --shards wins over DISCORD_SHARD_IDS
    bot = AlertsBot(sharding())
    assert (bot.shard_count, bot.shard_ids) == (4, [3, 1])


@pytest.mark.parametrize(
    ("count", "ids", "flag", "message"),
    [
        (2, "2", None, "DISCORD_SHARD_IDS lists shard 2, but with DISCORD_SHARD_COUNT=2 the "
         "shards are 0 to 1"),
        (2, "", "0,5", "--shards lists shard 5, but with DISCORD_SHARD_COUNT=2 the shards are "
         "0 to 1"),
        (0, "1", None, "DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT: the total number of shards"),
        (0, "", "1", "--shards needs DISCORD_SHARD_COUNT"),
        (3, "one", None, "DISCORD_SHARD_IDS must be shard numbers separated by commas, like "
         "0,1, not 'one'"),
        (3, "1,1", None, "DISCORD_SHARD_IDS lists shard 1 twice"),
        (3, "-1", None, "DISCORD_SHARD_IDS lists shard -1, but"),
        (-2, "", None, "DISCORD_SHARD_COUNT must be the total number of shards"),
        (3, "", "", "--shards must list this process's shards, like 0,1"),
    ],
)  # fmt: skip
def test_a_shard_setting_that_cannot_work_is_refused_naming_it(
    shard_settings, count, ids, flag, message
):
    shard_settings(count, ids)
    with pytest.raises(ShardingError) as refused:
        sharding(flag)
    assert str(refused.value).startswith(message)


def test_runbot_refuses_shards_out_of_range_before_it_connects(run_command, settings):
    settings.DISCORD_BOT_TOKEN = "a-token"
    settings.DISCORD_API_BASE = "http://127.0.0.1:9/api/v10"  # never asked
    settings.DISCORD_SHARD_COUNT = 2
    status, _, err = run_command("runbot", "--shards", "1,2")
    assert status != 0
    assert "--shards lists shard 2, but with DISCORD_SHARD_COUNT=2 the shards are 0 to 1" in err


class GatewayEmulator(DiscordEmulator):
    """The Discord emulator with a gateway: GET /gateway/bot and a WebSocket that says hello,
    records each IDENTIFY and answers READY for the shard it named."""

    def __init__(self) -> None:
        super().__init__()
        self.identified: list[dict] = []

    def app(self) -> web.Application:
        app = super().app()
        app.router.add_get("/api/v10/gateway/bot", self._gateway_bot)
        # The WebSocket carries no Authorization header: it identifies inside, so it skips
        # the REST middleware's token check.
        app.middlewares.insert(0, self._gateway_door)
        return app

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "url": f"ws://{request.host}/gateway",
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    @web.middleware
    async def _gateway_door(self, request: web.Request, handler) -> web.StreamResponse:
        if request.path != "/gateway":
            return await handler(request)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                break
            payload = json.loads(frame.data)
            if payload["op"] == 1:  # heartbeat
                await socket.send_json({"op": 11})
            elif payload["op"] == 2:  # identify
                self.identified.append(payload["d"])
                await socket.send_json(self._ready(payload["d"], request.host))
        return socket

    @staticmethod
    def _ready(identify: dict, host: str) -> dict:
        shard = identify.get("shard", [0, 1])
        return {
            "op": 0,
            "t": "READY",
            "s": 1,
            "d": {
                "v": 10,
                "user": {
                    "id": APPLICATION_ID,
                    "username": "alerts-bot",
                    "discriminator": "0",
                    "avatar": None,
                    "bot": True,
                },
                "guilds": [],
                "session_id": f"session-{shard[0]}",
                "resume_gateway_url": f"ws://{host}/gateway",
                "shard": shard,
                "application": {"id": APPLICATION_ID, "flags": 0},
            },
        }


def wait_for_line(process: subprocess.Popen, text: str, timeout: float = 60) -> str:
    """The process's log up to the first line holding `text`, read in a thread so a silent
    process cannot hold the test past `timeout`."""
    lines: queue.Queue[str] = queue.Queue()
    seen = ""

    def read() -> None:
        for line in process.stderr:
            lines.put(line)
            if text in line:
                return

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while text not in seen:
        left = deadline - time.monotonic()
        assert left > 0 and process.poll() is None, f"no {text!r} in:\n{seen}"
        try:
            seen += lines.get(timeout=min(left, 1.0))
        except queue.Empty:
            continue
    return seen


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runbot_processes_split_two_shards_and_each_identifies_with_its_own(manage_py):
    emulator = GatewayEmulator()
    with RunningEmulator(emulator) as running:
        env = {
            "DISCORD_BOT_TOKEN": emulator.config.token,
            "DISCORD_API_BASE": running.base_url,
            "DISCORD_SHARD_COUNT": "2",
        }
        second = manage_py("runbot", env={**env, "DISCORD_SHARD_IDS": "1"})
        first = manage_py("runbot", "--shards", "0", env=env)
        bots = {0: first, 1: second}
        try:
            for shard, bot in bots.items():
                log = wait_for_line(bot, f"shard {shard} of 2 is ready")
                assert f"shards {shard} of 2" in log
        finally:
            for bot in bots.values():
                bot.send_signal(signal.SIGTERM)
            outcomes = []
            for bot in bots.values():
                try:
                    outcomes.append(bot.communicate(timeout=15))
                except subprocess.TimeoutExpired:
                    bot.kill()
                    raise
        for bot, (_, err) in zip(bots.values(), outcomes, strict=True):
            assert bot.returncode == 0, err
            assert "runbot stopped" in err

    assert sorted(identify["shard"] for identify in emulator.identified) == [[0, 2], [1, 2]]
    assert {identify["token"] for identify in emulator.identified} == {emulator.config.token}
