"""The ``penny`` command line: ``penny run`` serves Slack; ``penny check`` checks configuration, Slack and the
model providers and exits (non-zero on any problem); ``penny digest`` posts the weekly cost digest now;
``penny ledger export`` archives the cost ledger."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

import structlog
from dotenv import find_dotenv, load_dotenv

from bot.bookkeeping import cli as ledger_cli
from bot.config import ConfigError, Settings, load_settings
from bot.observability import configure_logging
from routing.catalog import CatalogError

log = structlog.get_logger("penny")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="penny",
        description="Penny, the cost-aware Slack assistant.",
        epilog="Configuration comes from PENNY_* environment variables and .env (see README.md).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser("run", help="serve Slack (Socket Mode when PENNY_SLACK_APP_TOKEN is set, else HTTP)")
    check = commands.add_parser(
        "check", help="check settings, the catalog, Slack (token, scopes, app token) and each provider's key, then exit"
    )
    check.add_argument(
        "--offline", action="store_true", help="only what needs no network (settings, catalog, keys set)"
    )
    check.add_argument("--no-llm-calls", action="store_true", help="skip the one cheap call per model provider")
    digest = commands.add_parser("digest", help="post the weekly cost digest now (default: the last complete week)")
    digest.add_argument("--week", metavar="YYYY-Www", help="ISO week to report, e.g. 2026-W47")
    digest.add_argument("--dry-run", action="store_true", help="print the digest instead of posting it")
    digest.add_argument("--force", action="store_true", help="post even if this week's digest was already posted")
    ledger_cli.add_parser(commands)
    return parser


async def _serve(settings: Settings) -> None:
    from bot.app import build_penny, validate_startup
    from bot.redis.connection import connect_redis
    from bot.slack.http_server import start_http

    catalog = validate_startup(settings)
    redis = await connect_redis(settings)
    penny = await build_penny(settings, catalog, redis)
    await penny.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    socket_handler = None
    runner = None
    try:
        # Health, readiness and metrics are served in both modes; /slack/events only in HTTP mode.
        runner = await start_http(
            penny.app,
            settings.http_host,
            settings.http_port,
            ready=penny.ready,
            serve_events=not settings.socket_mode,
            signing_secret=settings.signing_secret,
        )
        if settings.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            assert settings.slack_app_token is not None
            socket_handler = AsyncSocketModeHandler(penny.app, settings.slack_app_token.get_secret_value())
            await socket_handler.connect_async()
        log.info(
            "penny.started",
            mode="socket" if settings.socket_mode else "http",
            host=settings.http_host,
            port=settings.http_port,
        )
        await stop.wait()
    finally:
        log.info("penny.stopping")
        if socket_handler is not None:
            await socket_handler.close_async()
        if runner is not None:
            await runner.cleanup()
        await penny.close()


def _one_blas_thread() -> None:
    """CPU discipline (DESIGN.md): one BLAS/OpenMP thread. Multi-threaded BLAS made the learned scorer's kNN
    product ~50x slower on a loaded 2-core machine. Runs before numpy is first imported (``_serve``)."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def main(argv: list[str] | None = None) -> int:
    _one_blas_thread()
    args = _parser().parse_args(argv)
    # Provider keys (e.g. GLOBAL_API_KEY) may live in .env too; look in the working directory, like pydantic-settings.
    load_dotenv(find_dotenv(usecwd=True), override=False)
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
        if args.command == "check":
            from bot.app import validate_startup
            from bot.check import run_checks

            catalog = validate_startup(settings)
            lines = asyncio.run(run_checks(settings, catalog, offline=args.offline, llm_calls=not args.no_llm_calls))
            for line in lines:
                print(f"penny: {line}")
            return 0 if all(line.ok for line in lines) else 1
        if args.command == "digest":
            from bot.digest.cli import run_digest

            return asyncio.run(run_digest(settings, week_text=args.week, dry_run=args.dry_run, force=args.force))
        if args.command == "ledger":
            return ledger_cli.run(settings, args)
        asyncio.run(_serve(settings))
        return 0
    except (ConfigError, CatalogError) as exc:
        print(f"penny: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
