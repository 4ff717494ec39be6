"""Sending signed requests to the bot the way Slack does, re-deliveries included.

Slack waits 3 seconds for an HTTP 2xx. If the app is slower, or answers with an error, Slack retries up to
three times with `X-Slack-Retry-Num: 1, 2, 3` and an `X-Slack-Retry-Reason`, unless the app answered with
`X-Slack-No-Retry: 1`. Slack spaces the retries (immediately, ~1 min, ~5 min); tests use short delays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiohttp

from .models import Delivery, DeliveryAttempt
from .signing import signed_headers

STALE_SECONDS = 600  # far outside the 5-minute window Bolt accepts


@dataclass
class DeliveryPolicy:
    ack_timeout: float = 3.0
    max_retries: int = 3
    retry_delays: Sequence[float] = (0.0, 0.0, 0.0)
    retry_on_http_error: bool = True


class Deliverer:
    """Posts bodies to the bot, records every attempt in `log` (shared with the emulator)."""

    def __init__(
        self,
        *,
        signing_secret: str,
        policy: DeliveryPolicy,
        clock: Callable[[], float],
        monotonic: Callable[[], float],
        log: list[Delivery],
    ) -> None:
        self.signing_secret = signing_secret
        self.policy = policy
        self.clock = clock
        self.monotonic = monotonic
        self.log = log

    async def deliver(
        self,
        delivery: Delivery,
        *,
        content_type: str,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        bad_signature: bool = False,
        stale_timestamp: bool = False,
        redeliver: bool = True,
    ) -> Delivery:
        """Send `delivery.body` once, then again while unacknowledged and retries remain."""
        self.log.append(delivery)
        attempt_num = retry_num or 0
        reason = retry_reason
        while True:
            attempt = await self._attempt(delivery, content_type, attempt_num, reason, bad_signature, stale_timestamp)
            delivery.attempts.append(attempt)
            if attempt.acked or not redeliver or attempt_num >= self.policy.max_retries:
                return delivery
            if attempt.headers.get("X-Slack-No-Retry") == "1":
                return delivery
            if attempt.timed_out:
                reason = "http_timeout"
            elif attempt.status is None:
                reason = "connection_failed"
            elif self.policy.retry_on_http_error:
                reason = "http_error"
            else:
                return delivery
            delays = list(self.policy.retry_delays) or [0.0]
            await asyncio.sleep(delays[min(attempt_num, len(delays) - 1)])
            attempt_num += 1

    async def _attempt(
        self,
        delivery: Delivery,
        content_type: str,
        retry_num: int,
        retry_reason: str | None,
        bad_signature: bool,
        stale_timestamp: bool,
    ) -> DeliveryAttempt:
        timestamp = int(self.clock()) - (STALE_SECONDS if stale_timestamp else 0)
        secret = self.signing_secret + ("-wrong" if bad_signature else "")
        headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        headers.update(signed_headers(secret, timestamp, delivery.body))
        if retry_num > 0:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        started = self.monotonic()
        timeout = aiohttp.ClientTimeout(total=self.policy.ack_timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(delivery.url, data=delivery.body.encode(), headers=headers) as response,
            ):
                body = await response.text()
                return DeliveryAttempt(
                    retry_num=retry_num,
                    status=response.status,
                    body=body,
                    elapsed=self.monotonic() - started,
                    headers=dict(response.headers),
                )
        except TimeoutError:
            return DeliveryAttempt(
                retry_num=retry_num,
                status=None,
                body="",
                elapsed=self.monotonic() - started,
                timed_out=True,
                error="timeout",
            )
        except aiohttp.ClientError as exc:
            return DeliveryAttempt(
                retry_num=retry_num,
                status=None,
                body="",
                elapsed=self.monotonic() - started,
                error=f"{type(exc).__name__}: {exc}",
            )
