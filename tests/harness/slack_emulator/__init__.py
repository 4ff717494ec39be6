"""A local Slack for tests: Web API emulator plus a signed Events API / slash-command sender.

Usage:
    emu = SlackEmulator(events_url="http://127.0.0.1:3000/slack/events").start()
    alice = emu.add_user("alice")
    general = emu.add_channel("general", members=[alice.id])
    client = AsyncWebClient(token=emu.bot_token, base_url=emu.base_url)
    delivery = emu.mention(general.id, alice.id, "what did we decide?")
    emu.wait_for(lambda: emu.bot_replies(general.id, delivery.ts))

Modules: `emulator` (the facade), `server` (HTTP, auth, rate limits, call log), `web_api` (methods),
`workspace` (state), `delivery` + `signing` + `payloads` (sending to the bot), `ratelimit`, `faults` (Slack
failures on demand or at a seeded rate), `limits` (message and block sizes), `streams` (native streaming), `models`.
"""

from .delivery import DeliveryPolicy
from .emulator import DeliveryOptions, SlackEmulator
from .faults import SlackFault
from .models import (
    ApiCall,
    Channel,
    Delivery,
    DeliveryAttempt,
    EphemeralMessage,
    Message,
    ResponseUrlPost,
    Revision,
    UploadedFile,
    User,
)
from .signing import sign, signed_headers
from .workspace import SlackError

__all__ = [
    "ApiCall",
    "Channel",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryOptions",
    "DeliveryPolicy",
    "EphemeralMessage",
    "Message",
    "ResponseUrlPost",
    "Revision",
    "SlackEmulator",
    "SlackError",
    "SlackFault",
    "UploadedFile",
    "User",
    "sign",
    "signed_headers",
]
