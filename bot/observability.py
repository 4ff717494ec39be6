"""Structured logging (structlog) and Prometheus metrics.

One event name per line with key=value fields; message text and tokens never appear at INFO (the bot logs ids,
sizes and outcomes). Third-party loggers are routed through the same renderer and quieted to WARNING because
slack_sdk logs request bodies at DEBUG.
"""

from __future__ import annotations

import logging
import sys

import structlog
from prometheus_client import Counter, Histogram

REQUESTS = Counter("penny_requests_total", "Requests handled, by surface and outcome", ["surface", "outcome"])
DUPLICATE_EVENTS = Counter("penny_duplicate_events_total", "Event deliveries dropped as duplicates", ["reason"])
ANSWER_SECONDS = Histogram("penny_answer_seconds", "Time from request to final reply")


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    third_party_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for noisy in ("slack_bolt", "slack_sdk", "openai", "httpx", "httpx2", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(third_party_level)
