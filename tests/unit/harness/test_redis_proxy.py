"""The fault proxy loses exactly the reply it is told to, after Redis ran the command: redis-py re-sends it."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.redis.connection import plain_client
from tests.harness.redis_proxy import RedisFaultProxy


async def test_a_lost_reply_makes_redis_py_send_the_command_again(redis_url: str) -> None:
    proxy = RedisFaultProxy(redis_url).start()
    direct = plain_client(redis_url)
    through = aioredis.Redis.from_url(proxy.url, retry_on_error=[ConnectionError, OSError])
    try:
        proxy.drop_reply(b"counter")
        assert await through.incr("counter") == 2, "run twice: once for the lost reply, once for the re-send"
        assert proxy.dropped == [b"counter"]
        assert await direct.get("counter") == b"2"
        assert await through.incr("counter") == 3, "the fault is used up"
        pipe = through.pipeline(transaction=True)
        pipe.set("a", "1").get("a").hgetall("nothing")
        assert await pipe.execute() == [True, b"1", {}]
    finally:
        await through.aclose()
        await direct.aclose()
        proxy.stop()
