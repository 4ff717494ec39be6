"""Slack request signing (https://api.slack.com/authentication/verifying-requests-from-slack).

Kept apart from delivery so a test can reproduce Slack's documented example with the very function the
emulator signs with.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"


def sign(signing_secret: str, timestamp: str | int, body: str) -> str:
    """Return `v0=<hex HMAC-SHA256(secret, "v0:{timestamp}:{body}")>`, the value of `X-Slack-Signature`."""
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(signing_secret: str, timestamp: str | int, body: str) -> dict[str, str]:
    """The two headers Slack adds to every request it sends to an app."""
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(signing_secret, timestamp, body)}
