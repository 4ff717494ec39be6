"""The embedded ``redis-server``: a SIGKILL with ``appendfsync always`` loses no acknowledged write."""

from __future__ import annotations

from pathlib import Path

import redis

from bot.redis.embedded import RedisServerProcess


def test_a_killed_server_restarts_on_its_port_with_every_acknowledged_write(tmp_path: Path) -> None:
    server = RedisServerProcess(data_dir=tmp_path, appendfsync="always").start()
    try:
        client = redis.Redis.from_url(server.url)
        for n in range(50):
            client.xadd("rows", {"n": str(n)})
        client.close()
        port = server.port
        server.kill()
        assert not server.running
        server.start()
        assert server.port == port
        client = redis.Redis.from_url(server.url)
        assert client.xlen("rows") == 50
        assert client.config_get("appendfsync") == {"appendfsync": "always"}
        client.close()
    finally:
        server.stop()
