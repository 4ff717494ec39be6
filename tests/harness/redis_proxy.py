"""A TCP proxy in front of a real redis-server that can lose a reply after Redis has run the command.

That is the failure redis-py's retry cannot see through: the connection breaks between Redis executing a command
and the client reading its reply, so redis-py reconnects and sends the command again, and Redis runs it twice.
``drop_reply(needle)`` makes the proxy forward the next command containing ``needle``, read Redis' reply, and close
the client's connection instead of passing the reply on — only for a reply that is not an error, so a ``NOSCRIPT``
answer (the script was not loaded yet; redis-py loads it and asks again) does not use the fault up.

It understands just enough RESP to find where each command and each reply ends (RESP2 and RESP3 types). Runs on
its own event loop in a daemon thread, like the Slack emulator, so a bot in another process can connect to it.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from urllib.parse import urlparse

_AGGREGATES = {b"*": 1, b"~": 1, b">": 1, b"%": 2, b"|": 2}  # element count factor per header
_BLOBS = (b"$", b"!", b"=")


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    """One complete RESP value, raw."""
    line = await reader.readuntil(b"\r\n")
    kind, header = line[:1], line[1:-2]
    if kind in _BLOBS:
        length = int(header)
        return line if length < 0 else line + await reader.readexactly(length + 2)
    if kind in _AGGREGATES:
        count = int(header)
        parts = [line]
        for _ in range(max(count, 0) * _AGGREGATES[kind]):
            parts.append(await _read_frame(reader))
        frame = b"".join(parts)
        if kind == b"|":  # an attribute precedes the real reply
            frame += await _read_frame(reader)
        return frame
    return line  # + - : _ # , ( : one line


@dataclass
class _Rule:
    needle: bytes
    times: int


@dataclass
class RedisFaultProxy:
    upstream_url: str
    dropped: list[bytes] = field(default_factory=list)  # the needles whose replies were lost, in order
    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.AbstractServer | None = None
    port: int = 0

    @property
    def url(self) -> str:
        path = urlparse(self.upstream_url).path or "/0"
        return f"redis://127.0.0.1:{self.port}{path}"

    def drop_reply(self, needle: bytes, *, times: int = 1) -> None:
        with self._lock:
            self._rules.append(_Rule(needle, times))

    def start(self) -> RedisFaultProxy:
        loop = asyncio.new_event_loop()
        self._loop = loop
        threading.Thread(target=loop.run_forever, name="redis-fault-proxy", daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._serve(), loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    def _take(self, command: bytes, reply: bytes) -> bytes | None:
        if reply.startswith(b"-"):
            return None
        with self._lock:
            for rule in self._rules:
                if rule.times > 0 and rule.needle in command:
                    rule.times -= 1
                    self.dropped.append(rule.needle)
                    return rule.needle
        return None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = urlparse(self.upstream_url)
        try:
            up_reader, up_writer = await asyncio.open_connection(upstream.hostname, upstream.port)
        except OSError:
            writer.close()
            return
        try:
            while True:
                command = await _read_frame(reader)
                up_writer.write(command)
                await up_writer.drain()
                reply = await _read_frame(up_reader)
                if self._take(command, reply) is not None:
                    break  # Redis ran it; the client never hears so
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            writer.close()
            up_writer.close()
