"""Run the real ``penny run`` as a child process, configured only through its public ``PENNY_*`` settings.

End-to-end tests talk to it the way Slack does (signed HTTP to ``/slack/events``) and watch what it does through
the Slack emulator and the OpenAI-compatible server, so nothing inside Penny is patched. A process (rather than an
in-process app) is what makes the crash test honest: SIGKILL leaves no ``finally`` blocks to run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bot.redis.embedded import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PennyProcess:
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("penny is not running")
        return self._proc.pid

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def start(self, timeout: float = 60.0) -> PennyProcess:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONPATH": str(REPO_ROOT),
            "HF_HUB_OFFLINE": "1",
            **self.env,
            "PENNY_HTTP_HOST": "127.0.0.1",
            "PENNY_HTTP_PORT": str(self.port),
        }
        log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bot.main", "run"],
            cwd=self.log_path.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"penny exited with {self._proc.returncode}:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"penny did not become healthy:\n{self.log_text()}")

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up, like an OOM kill or a node loss."""
        if self._proc is not None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=10)
            self._proc = None

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
            self._proc = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
