"""``penny ledger export --since 7d --format csv|jsonl``: archive the ledger's rows before retention trims them.

Reads the deployment's Redis by URL (like ``penny digest``: a second embedded server on the running one's files
would corrupt them) and writes to stdout or ``--output``; one line on stderr says how many rows went where.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from bot.config import ENV_PREFIX, ConfigError, Settings


def add_parser(commands: Any) -> None:
    """Register ``penny ledger`` on the main parser's subcommands."""
    ledger = commands.add_parser("ledger", help="archive the cost ledger (see: penny ledger export --help)")
    actions = ledger.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write ledger rows as CSV or JSON lines")
    export.add_argument("--since", default="7d", help="how far back, e.g. 7d, 12h, 30m (default: 7d)")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="output format (default: csv)")
    export.add_argument("--team", action="append", help="only this workspace id (repeatable; default: all)")
    export.add_argument("--output", type=Path, help="write to this file instead of stdout")


def run(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(export(settings, args))


async def export(settings: Settings, args: argparse.Namespace, *, now: float | None = None) -> int:
    from bot.bookkeeping.export import export_rows, parse_duration, write_rows
    from bot.bookkeeping.retention import ledger_teams
    from bot.ledger import Ledger
    from bot.redis.connection import connect_redis

    try:
        since_s = parse_duration(args.since)
    except ValueError as exc:
        raise ConfigError(f"--since: {exc}") from None
    if not settings.redis_url:
        raise ConfigError(f"{ENV_PREFIX}REDIS_URL is not set (penny ledger export reads the deployment's Redis by URL)")
    end = time.time() if now is None else now
    redis = await connect_redis(settings)
    try:
        teams = args.team or await ledger_teams(redis.client, scan=True)
        rows = export_rows(Ledger(redis.client), teams, start=end - since_s, end=end + 0.001)
        if args.output is None:
            written = await write_rows(rows, sys.stdout, args.format)
            where = "stdout"
        else:
            with args.output.open("w", encoding="utf-8", newline="") as out:
                written = await write_rows(rows, out, args.format)
            where = str(args.output)
    finally:
        await redis.close()
    print(f"penny: exported {written} ledger rows ({args.format}, last {args.since}) to {where}", file=sys.stderr)
    return 0
