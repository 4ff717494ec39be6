"""Ledger rows Redis could not take, kept on local disk until it can: append-only JSON lines, fsync'd.

Each process appends to its own segment file under ``PENNY_DATA_DIR/ledger-spool/`` and holds an exclusive
``flock`` on it while it is open. A flush first seals the process's open segment (later rows start a new one),
then takes every segment nobody holds — its own sealed ones and those a crashed or stopped process left behind —
writes their rows through the ledger's record-once script, and deletes a segment only when every row in it is in
Redis. A row written twice (the connection broke after Redis took it; two processes flushing one dead segment) is
still counted once, because the script records each request id once.

A torn last line (the process died mid-write, before its fsync returned) is skipped with a warning: its request
never finished closing, so nothing that was promised is lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import structlog

from bot.ledger import LedgerEntry
from bot.observability import SPOOL_ROWS, SPOOLED

log = structlog.get_logger(__name__)

SUFFIX = ".jsonl"


@dataclass
class Segment:
    """A segment taken for flushing: its rows, and the locked descriptor that keeps other flushers off it."""

    path: Path
    entries: list[LedgerEntry]
    fd: int


class FileSpool:
    """The spool directory of one process (several processes may share it safely)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._path: Path | None = None
        self.directory.mkdir(parents=True, exist_ok=True)
        SPOOL_ROWS.set(self.depth())

    def append(self, entry: LedgerEntry) -> bool:
        """Write one row and fsync it; True once it is on disk (blocking: call it off the event loop)."""
        line = (json.dumps(entry.to_fields(), separators=(",", ":")) + "\n").encode()
        with self._lock:
            fd = self._open_segment()
            os.write(fd, line)
            os.fsync(fd)
        SPOOLED.inc()
        SPOOL_ROWS.inc()
        return True

    def _open_segment(self) -> int:
        if self._fd is None:
            path = self.directory / f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}{SUFFIX}"
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._fsync_directory()
            self._fd, self._path = fd, path
        return self._fd

    def seal(self) -> None:
        """Close this process's open segment, so a flush may take it; the next row starts a new one."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = self._path = None

    def pending(self) -> bool:
        return any(self._segments())

    def depth(self) -> int:
        """Rows waiting in every segment of the directory."""
        rows = 0
        for path in self._segments():
            with contextlib.suppress(OSError):
                rows += path.read_bytes().count(b"\n")
        return rows

    def take(self) -> Iterator[Segment]:
        """Seal, then yield each segment nobody else holds, locked; ``done`` deletes it, ``release`` keeps it."""
        self.seal()
        for path in self._segments():
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # another process flushed it meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # a live process is still writing it
            if not path.exists():  # deleted between listing and locking
                os.close(fd)
                continue
            yield Segment(path, self._read(path, fd), fd)

    def done(self, segment: Segment) -> None:
        """Every row of the segment is in Redis: delete it."""
        with contextlib.suppress(FileNotFoundError):
            segment.path.unlink()
        self._fsync_directory()
        os.close(segment.fd)
        SPOOL_ROWS.set(self.depth())

    @staticmethod
    def release(segment: Segment) -> None:
        os.close(segment.fd)

    def _segments(self) -> list[Path]:
        return sorted(p for p in self.directory.glob(f"*{SUFFIX}") if p.is_file())

    @staticmethod
    def _read(path: Path, fd: int) -> list[LedgerEntry]:
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read()
        entries: list[LedgerEntry] = []
        for number, line in enumerate(data.splitlines(), start=1):
            try:
                entries.append(LedgerEntry.from_fields(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                log.warning("ledger.spool_line_unreadable", segment=path.name, line=number)
        return entries

    def _fsync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
