"""`SlackEmulator`: a local Slack (Web API + Events API sender) for tests, running in its own thread.

The server runs an aiohttp app on its own event loop in a daemon thread, so it keeps answering while a test
blocks, and a bot running in the test's own loop (or in a subprocess) talks to it over real HTTP. Methods
that send to the bot exist twice: `mention(...)` blocks the calling thread (fine for a bot in another
process or thread), `amention(...)` awaits (needed when the bot runs on the test's own event loop).
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from types import TracebackType
from typing import Any, TypedDict, TypeVar, Unpack
from urllib.parse import urlencode

from aiohttp import web

from . import payloads
from .delivery import Deliverer, DeliveryPolicy
from .faults import Injected, Match, SlackFault
from .models import (
    ApiCall,
    Channel,
    ChannelKind,
    Delivery,
    EphemeralMessage,
    Message,
    ResponseUrlPost,
    Revision,
    UploadedFile,
    User,
)
from .server import ApiServer
from .socket_mode import SocketModeHub
from .workspace import Workspace

T = TypeVar("T")


class DeliveryOptions(TypedDict, total=False):
    """How to send one event or command. All optional."""

    url: str  # the bot's endpoint; defaults to `SlackEmulator.events_url`
    event_id: str  # reuse an id to simulate a duplicate delivery
    retry_num: int  # start at X-Slack-Retry-Num N (a hand-made re-delivery)
    retry_reason: str  # X-Slack-Retry-Reason for that first attempt
    bad_signature: bool  # sign with the wrong secret
    stale_timestamp: bool  # X-Slack-Request-Timestamp 10 minutes in the past
    redeliver: bool  # retry when not acked within ack_timeout (default True, like Slack)


class SlackEmulator:
    """A fake Slack workspace with one installed bot.

    >>> with SlackEmulator() as emu:
    ...     general = emu.add_channel("general", members=[emu.add_user("alice").id])
    ...     client = AsyncWebClient(token=emu.bot_token, base_url=emu.base_url)
    """

    def __init__(
        self,
        *,
        signing_secret: str = "penny-test-signing-secret",
        bot_token: str = "xoxb-0001-penny-test",
        app_token: str = "xapp-1-A0PENNY-0001-penny-test",
        team_id: str = "T0001",
        team_name: str = "Penny Test",
        team_domain: str = "penny-test",
        bot_user_id: str = "U0PENNY",
        bot_id: str = "B0PENNY",
        app_id: str = "A0PENNY",
        events_url: str | None = None,
        ack_timeout: float = 3.0,
        max_retries: int = 3,
        retry_delays: Sequence[float] = (0.0, 0.0, 0.0),
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.events_url = events_url
        self.workspace = Workspace(
            team_id=team_id,
            team_name=team_name,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            clock=clock,
            monotonic=monotonic,
        )
        self.app_token = app_token
        self.socket_mode = SocketModeHub(app_token)
        self._server = ApiServer(
            workspace=self.workspace, bot_token=bot_token, origin=lambda: self.origin, socket_mode=self.socket_mode
        )
        self._deliveries: list[Delivery] = []
        self.delivery_policy = DeliveryPolicy(
            ack_timeout=ack_timeout, max_retries=max_retries, retry_delays=tuple(retry_delays)
        )
        self._deliverer = Deliverer(
            signing_secret=signing_secret,
            policy=self.delivery_policy,
            clock=clock,
            monotonic=monotonic,
            log=self._deliveries,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._event_seq = 0

    # ================================================================= lifecycle
    def start(self) -> SlackEmulator:
        """Start the server on 127.0.0.1 and a free port; returns self once it accepts connections."""
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="slack-emulator", daemon=True)
        self._thread.start()
        self._call(self._serve())
        return self

    async def _serve(self) -> None:
        self._runner = web.AppRunner(self._server.build_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._runner is not None:
            self._call(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
        self._loop, self._thread, self._runner = None, None, None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """`http://127.0.0.1:PORT`, the root of every URL the emulator serves."""
        if self._port is None:
            raise RuntimeError("SlackEmulator is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """What `AsyncWebClient(base_url=...)` needs: `http://127.0.0.1:PORT/api/`."""
        return f"{self.origin}/api/"

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            raise RuntimeError("SlackEmulator is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _acall(self, coro: Coroutine[Any, Any, T]) -> Awaitable[T]:
        if self._loop is None:
            raise RuntimeError("SlackEmulator is not started")
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    # ================================================================= arranging the workspace
    def add_user(
        self,
        name: str,
        *,
        user_id: str | None = None,
        real_name: str = "",
        display_name: str = "",
        is_bot: bool = False,
        email: str = "",
        deleted: bool = False,
        is_admin: bool = False,
    ) -> User:
        uid = user_id or self.workspace.new_id("U")
        user = User(
            id=uid,
            name=name,
            real_name=real_name or name.title(),
            display_name=display_name or name,
            is_bot=is_bot,
            email=email or f"{name}@example.com",
            deleted=deleted,
            team_id=self.team_id,
            is_admin=is_admin,
        )
        return copy.deepcopy(self.workspace.add_user(user))

    def add_channel(
        self,
        name: str,
        *,
        kind: ChannelKind = "public",
        members: Sequence[str] = (),
        bot_member: bool = True,
        channel_id: str | None = None,
        is_ext_shared: bool = False,
        topic: str = "",
        purpose: str = "",
    ) -> Channel:
        """Add a conversation. Private channels and mpims get C ids too, as in modern Slack, so code that
        guesses visibility from the id prefix gets caught; only DMs start with D."""
        members_list = list(members) + ([self.bot_user_id] if bot_member else [])
        channel = self.workspace.new_channel(
            name=name,
            kind=kind,
            members=members_list,
            channel_id=channel_id,
            is_ext_shared=is_ext_shared,
            topic=topic,
            purpose=purpose,
        )
        return copy.deepcopy(channel)

    def add_dm(self, user_id: str) -> Channel:
        """The bot's DM with `user_id` (an `im`)."""
        return copy.deepcopy(self.workspace.dm_channel_for(user_id))

    def set_membership(self, channel: str, user_id: str, member: bool) -> None:
        with self.workspace.lock:
            members = self.workspace.channels[channel].members
            if member and user_id not in members:
                members.append(user_id)
            if not member and user_id in members:
                members.remove(user_id)

    def post_user_message(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        ts: str | None = None,
        broadcast: bool = False,
    ) -> Message:
        """Put a human's message into the workspace (no event is sent): history and threads see it.

        ``ts`` gives the message a chosen id: Slack's ts is unique within a channel, not across channels, so two
        channels may hold messages with the same ts (the default is the workspace clock's next one).
        """
        ws = self.workspace
        if ts is not None and ts in ws.messages.get(channel, {}):
            raise ValueError(f"channel {channel} already has a message {ts}")
        message = Message(
            channel=channel,
            ts=ts or ws.next_ts(),
            user=user,
            text=text,
            team=self.team_id,
            thread_ts=thread_ts,
            blocks=blocks,
            client_msg_id=str(uuid.uuid4()),
            reply_broadcast=broadcast and thread_ts is not None,
        )
        return copy.deepcopy(ws.post(message))

    def pin(self, channel: str, ts: str, *, by: str | None = None) -> None:
        self.workspace.pin(channel, ts, by or self.bot_user_id)

    def pin_event(self, channel: str, ts: str, user: str, *, removed: bool = False) -> dict[str, Any]:
        """`user` pins (or, with `removed`, unpins) the message: update the state and return the event."""
        ws = self.workspace
        with ws.lock:
            if removed:
                pin = ws.unpin(channel, ts)
            else:
                ws.pin(channel, ts, user)
                pin = next(p for p in ws.channels[channel].pins if p.ts == ts)
            return payloads.pin_event(
                ws.find(channel, ts).to_api(),
                user=user,
                channel=channel,
                created=pin.created,
                created_by=pin.created_by,
                pin_count=len(ws.channels[channel].pins),
                event_ts=ws.next_ts(),
                permalink=f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}",
                removed=removed,
            )

    def unpin(self, channel: str, ts: str, user: str, **opts: Unpack[DeliveryOptions]) -> Delivery:
        """`user` unpins the message; `pin_removed` is sent to the bot."""
        return self.deliver_event(self.pin_event(channel, ts, user, removed=True), **opts)

    # ================================================================= inspecting the workspace
    def message(self, channel: str, ts: str) -> Message:
        with self.workspace.lock:
            return copy.deepcopy(self.workspace.find(channel, ts))

    def history(self, channel: str) -> list[Message]:
        """Top-level messages (and thread broadcasts) of a channel, oldest first."""
        with self.workspace.lock:
            return copy.deepcopy(self.workspace.top_level(channel))

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The parent then every reply, oldest first."""
        with self.workspace.lock:
            return copy.deepcopy(self.workspace.thread(channel, ts))

    def bot_replies(self, channel: str, thread_ts: str) -> list[Message]:
        """Replies the bot posted in a thread (the parent excluded)."""
        return [m for m in self.thread(channel, thread_ts)[1:] if m.user == self.bot_user_id]

    def bot_messages(self, channel: str | None = None, *, include_deleted: bool = False) -> list[Message]:
        """Everything the bot posted, in any channel (or one), deleted ones only if asked."""
        with self.workspace.lock:
            found = [
                m
                for cid, msgs in self.workspace.messages.items()
                if channel in (None, cid)
                for m in msgs.values()
                if m.user == self.bot_user_id and (include_deleted or not m.deleted)
            ]
            return copy.deepcopy(found)

    def edit_history(self, channel: str, ts: str) -> list[Revision]:
        """Every version of a message, deleted ones included: the posted text, then each `chat.update`."""
        with self.workspace.lock:
            message = self.workspace.messages.get(channel, {}).get(ts)
            if message is None:
                raise KeyError(f"no message {channel}/{ts}")
            return copy.deepcopy(message.revisions)

    def ephemeral_messages(
        self, channel: str | None = None, *, include_deleted: bool = False
    ) -> list[EphemeralMessage]:
        with self.workspace.lock:
            return [
                copy.deepcopy(e)
                for e in self.workspace.ephemeral
                if channel in (None, e.channel) and (include_deleted or not e.deleted)
            ]

    def uploaded_files(self) -> list[UploadedFile]:
        with self.workspace.lock:
            return copy.deepcopy(list(self.workspace.files.values()))

    def response_url_posts(self) -> list[ResponseUrlPost]:
        with self._server.log_lock:
            return copy.deepcopy(self._server.response_url_posts)

    # ================================================================= the call log and failure knobs
    def calls(self, method: str | None = None, **params: Any) -> list[ApiCall]:
        """Logged Web API calls, optionally of one method and with given parameter values
        (e.g. `calls("chat.update", channel="C0001", ts=ts)`)."""
        with self._server.log_lock:
            found = [
                c
                for c in self._server.calls
                if method in (None, c.method) and all(str(c.params.get(k)) == str(v) for k, v in params.items())
            ]
            return copy.deepcopy(found)

    def clear_calls(self) -> None:
        with self._server.log_lock:
            self._server.calls.clear()

    def set_rate_limit(
        self,
        method: str,
        *,
        per_second: float | None = None,
        per_minute: float | None = None,
        per_channel: bool = False,
    ) -> None:
        """Throttle a method with a sliding window (both limits may apply). None for both removes it.
        `per_channel` keeps one budget per channel, like chat.postMessage's 1/s per channel."""
        self._server.limiter.set_limit(method, per_second=per_second, per_minute=per_minute, per_channel=per_channel)

    def force_rate_limit(self, method: str, times: int = 1, *, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 and `Retry-After: retry_after`."""
        self._server.limiter.force(method, times, retry_after)

    def fail_next(self, method: str, error: str, *, times: int = 1, status: int = 200, html: bool = False) -> None:
        """Answer the next `times` calls with `{"ok": false, "error": error}` (e.g. `fatal_error`, 500), or with
        `html=True` an HTML outage page of HTTP `status` that carries no error code at all."""
        fault = SlackFault("html" if html else "error", error, status)
        self._server.faults.add(method, fault, times=times)

    def inject(self, method: str, fault: SlackFault, *, times: int = 1, match: Match | None = None) -> None:
        """Apply `fault` to the next `times` calls of `method` whose parameters `match` (all, without one)."""
        self._server.faults.add(method, fault, times=times, match=match)

    def set_chaos(
        self, rate: float, *, seed: int, methods: Sequence[str], faults: Sequence[SlackFault] | None = None
    ) -> None:
        """A seeded share `rate` of calls to `methods` fails with one of `faults` (default: one of each kind)."""
        self._server.faults.chaos(rate, seed=seed, methods=methods, faults=faults)

    def injected(self) -> list[Injected]:
        """Every fault applied so far."""
        with self._server.log_lock:
            return list(self._server.faults.log)

    def is_streamed(self, channel: str, ts: str) -> bool:
        """Whether the message began as a native stream (its text is Markdown, not mrkdwn)."""
        with self.workspace.lock:
            return self._server.api.streams.is_streamed(channel, ts)

    def is_streaming(self, channel: str, ts: str) -> bool:
        """Whether the message is a native stream not stopped yet (still being written)."""
        with self.workspace.lock:
            return self._server.api.streams.is_streaming(channel, ts)

    def is_finished(self, message: Message) -> bool:
        """A reply that is done being written: text, no streaming cursor or placeholder, no open stream."""
        text = message.text
        return (
            bool(text)
            and "▍" not in text
            and "thinking" not in text.lower()
            and not self.is_streaming(message.channel, message.ts)
        )

    def set_latency(self, method: str, seconds: float) -> None:
        """Delay every answer of `method`, to exercise timeouts and concurrency."""
        self._server.latency[method] = seconds

    # ================================================================= sending events to the bot
    def deliveries(self) -> list[Delivery]:
        """Every event or command sent to the bot, with all its attempts."""
        return copy.deepcopy(list(self._deliveries))

    def next_event_id(self) -> str:
        with self.workspace.lock:
            self._event_seq += 1
            return f"Ev0{self._event_seq:08d}PN"

    def envelope(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        """Wrap an inner event into the `event_callback` payload Slack posts."""
        channel = self.workspace.channels.get(str(event.get("channel") or event.get("item", {}).get("channel")))
        return payloads.event_envelope(
            event,
            team_id=self.team_id,
            api_app_id=self.app_id,
            bot_user_id=self.bot_user_id,
            event_id=event_id or self.next_event_id(),
            event_time=int(self.workspace.clock()),
            is_ext_shared_channel=bool(channel and channel.is_ext_shared),
        )

    def _event_delivery(self, payload: dict[str, Any], opts: DeliveryOptions) -> tuple[Delivery, dict[str, Any]]:
        if payload.get("type") != "event_callback":
            payload = self.envelope(payload, event_id=opts.get("event_id"))
        elif "event_id" in opts:
            payload = {**payload, "event_id": opts["event_id"]}
        url = opts.get("url") or self.events_url
        if not url:
            raise ValueError("no url: pass url= or set SlackEmulator.events_url")
        delivery = Delivery(
            kind="event", url=url, event_id=payload["event_id"], body=json.dumps(payload), ts=payload["event"].get("ts")
        )
        return delivery, {k: v for k, v in opts.items() if k not in ("url", "event_id")}

    def deliver_event(self, payload: dict[str, Any], **opts: Unpack[DeliveryOptions]) -> Delivery:
        """Sign and POST an event (an inner event or a full `event_callback` payload) to the bot; blocks
        until it is acked or the retries are spent. Thread-safe."""
        delivery, kwargs = self._event_delivery(payload, opts)
        return self._call(self._deliverer.deliver(delivery, content_type="application/json", **kwargs))

    async def adeliver_event(self, payload: dict[str, Any], **opts: Unpack[DeliveryOptions]) -> Delivery:
        delivery, kwargs = self._event_delivery(payload, opts)
        return await self._acall(self._deliverer.deliver(delivery, content_type="application/json", **kwargs))

    def mention_event(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> dict[str, Any]:
        """Post `<@BOT> text` as `user` into the channel (or thread) and return its `app_mention` event."""
        text = f"<@{self.bot_user_id}> {text}".rstrip()
        message = self.post_user_message(channel, user, text, thread_ts=thread_ts)
        return payloads.app_mention_event(message)

    def mention(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None, **opts: Unpack[DeliveryOptions]
    ) -> Delivery:
        """A user mentions the bot: the message lands in the channel state, then `app_mention` is sent."""
        return self.deliver_event(self.mention_event(channel, user, text, thread_ts=thread_ts), **opts)

    async def amention(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None, **opts: Unpack[DeliveryOptions]
    ) -> Delivery:
        return await self.adeliver_event(self.mention_event(channel, user, text, thread_ts=thread_ts), **opts)

    def message_event(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> dict[str, Any]:
        """Post a plain user message (e.g. a follow-up in a thread) and return its `message` event; with
        ``broadcast`` the reply is also sent to the channel (subtype ``thread_broadcast``)."""
        message = self.post_user_message(channel, user, text, thread_ts=thread_ts, broadcast=broadcast)
        return payloads.message_event(message, channel_type=self.workspace.channel_type(channel))

    def send_message(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
        **opts: Unpack[DeliveryOptions],
    ) -> Delivery:
        return self.deliver_event(
            self.message_event(channel, user, text, thread_ts=thread_ts, broadcast=broadcast), **opts
        )

    def reaction_event(self, channel: str, ts: str, user: str, reaction: str) -> dict[str, Any]:
        """Add `user`'s reaction to the message and return the `reaction_added` event."""
        return self._reaction_change(channel, ts, user, reaction, removed=False)

    def _reaction_change(self, channel: str, ts: str, user: str, reaction: str, *, removed: bool) -> dict[str, Any]:
        """Put on (or take off) `user`'s reaction and return the matching event (Slack gives both one shape)."""
        with self.workspace.lock:
            message = self.workspace.find(channel, ts)
            users = message.reactions.setdefault(reaction, [])
            if removed and user in users:
                users.remove(user)
            elif not removed and user not in users:
                users.append(user)
            if not users:
                message.reactions.pop(reaction, None)
            return payloads.reaction_added_event(
                user=user,
                reaction=reaction,
                channel=channel,
                ts=ts,
                item_user=message.user,
                event_ts=self.workspace.next_ts(),
                removed=removed,
            )

    def react(self, channel: str, ts: str, user: str, reaction: str, **opts: Unpack[DeliveryOptions]) -> Delivery:
        return self.deliver_event(self.reaction_event(channel, ts, user, reaction), **opts)

    def reaction_removed_event(self, channel: str, ts: str, user: str, reaction: str) -> dict[str, Any]:
        """Take `user`'s reaction off the message and return the `reaction_removed` event."""
        return self._reaction_change(channel, ts, user, reaction, removed=True)

    def unreact(self, channel: str, ts: str, user: str, reaction: str, **opts: Unpack[DeliveryOptions]) -> Delivery:
        return self.deliver_event(self.reaction_removed_event(channel, ts, user, reaction), **opts)

    def edit_event(self, channel: str, ts: str, new_text: str) -> dict[str, Any]:
        """A user edits their message: update the state and return the `message_changed` event."""
        ws = self.workspace
        with ws.lock:
            message = ws.find(channel, ts)
            before = message.to_api()
            ws.update(message, text=new_text, blocks=None, editor=message.user)
            return payloads.message_changed_event(
                before, message.to_api(), channel=channel, event_ts=ws.next_ts(), channel_type=ws.channel_type(channel)
            )

    def delete_event(self, channel: str, ts: str) -> dict[str, Any]:
        """A message is deleted: update the state and return the `message_deleted` event."""
        ws = self.workspace
        with ws.lock:
            message = ws.find(channel, ts)
            before = message.to_api()
            ws.delete(message)
            return payloads.message_deleted_event(
                before, channel=channel, event_ts=ws.next_ts(), channel_type=ws.channel_type(channel)
            )

    # ================================================================= scopes
    def set_bot_scopes(self, scopes: Sequence[str] | None = None, *, without: Sequence[str] = ()) -> None:
        """What the bot token was granted (default: every scope the emulator knows), minus ``without``. Methods
        needing a missing scope answer ``missing_scope``; every answer lists the grant in ``x-oauth-scopes``."""
        from .scopes import all_scopes

        granted = set(all_scopes() if scopes is None else scopes) - set(without)
        with self._server.log_lock:
            self._server.bot_scopes = granted

    def set_app_token_scopes(self, scopes: Sequence[str]) -> None:
        """The app-level token's scopes (default ``connections:write``, which Socket Mode needs)."""
        with self._server.log_lock:
            self._server.app_token_scopes = set(scopes)

    # ================================================================= the assistant pane and App Home
    def open_assistant_thread(
        self, user: str, *, viewing: str | None = None, **opts: Unpack[DeliveryOptions]
    ) -> tuple[str, str, Delivery]:
        """The user opens Penny's assistant pane (while viewing channel ``viewing``): Slack starts a thread in
        their DM with the app (its root has subtype ``assistant_app_thread``) and sends
        ``assistant_thread_started``. Returns (DM channel id, thread ts, the delivery)."""
        ws = self.workspace
        with ws.lock:
            dm = ws.dm_channel_for(user)
            root = ws.post(
                Message(
                    channel=dm.id,
                    ts=ws.next_ts(),
                    user=user,
                    text="New Assistant Thread",
                    team=self.team_id,
                    subtype="assistant_app_thread",
                )
            )
        event = self._assistant_event("assistant_thread_started", user, dm.id, root.ts, viewing)
        return dm.id, root.ts, self.deliver_event(event, **opts)

    def change_assistant_context(
        self, channel: str, thread_ts: str, user: str, viewing: str | None, **opts: Unpack[DeliveryOptions]
    ) -> Delivery:
        """The user, with the pane open, moves to channel ``viewing``: ``assistant_thread_context_changed``."""
        event = self._assistant_event("assistant_thread_context_changed", user, channel, thread_ts, viewing)
        return self.deliver_event(event, **opts)

    def _assistant_event(
        self, kind: str, user: str, channel: str, thread_ts: str, viewing: str | None
    ) -> dict[str, Any]:
        context = {"channel_id": viewing, "team_id": self.team_id, "enterprise_id": None} if viewing else {}
        return payloads.assistant_thread_event(
            kind, user=user, channel=channel, thread_ts=thread_ts, context=context, event_ts=self.workspace.next_ts()
        )

    def pane_state(self, channel: str, thread_ts: str) -> Any:
        """Statuses, suggested prompts and title the bot set on a pane thread (a copy)."""
        from .assistant import PaneThreadState

        with self.workspace.lock:
            return copy.deepcopy(self._server.api.assistant.threads.get((channel, thread_ts), PaneThreadState()))

    def published_view(self, user: str) -> dict[str, Any] | None:
        with self.workspace.lock:
            return copy.deepcopy(self._server.api.assistant.views.get(user))

    def open_app_home(self, user: str, **opts: Unpack[DeliveryOptions]) -> Delivery:
        """The user opens the app's Home tab: ``app_home_opened`` with ``tab: home``."""
        ws = self.workspace
        with ws.lock:
            dm = ws.dm_channel_for(user)
        view = self.published_view(user)
        event = payloads.app_home_opened_event(user=user, channel=dm.id, tab="home", event_ts=ws.next_ts(), view=view)
        return self.deliver_event(event, **opts)

    # ================================================================= interactivity (buttons, shortcuts)
    def _interaction_url(self, channel: str) -> str:
        with self.workspace.lock:
            self._event_seq += 1
            path = f"/actions/{self.team_id}/{8000000000 + self._event_seq}/{uuid.uuid4().hex[:24]}"
            self._server.response_url_channels[path] = channel
        return path

    def click(
        self, message: Message | EphemeralMessage, user: str, action_id: str, **opts: Unpack[DeliveryOptions]
    ) -> Delivery:
        """``user`` clicks the button ``action_id`` on a message (or on an ephemeral message only they see)."""
        ephemeral = isinstance(message, EphemeralMessage)
        ts = message.message_ts if isinstance(message, EphemeralMessage) else message.ts
        button = next(
            (
                e
                for b in message.blocks or []
                if b.get("type") == "actions"
                for e in b["elements"]
                if e.get("action_id") == action_id
            ),
            None,
        )
        if button is None:
            raise ValueError(f"no button {action_id!r} on that message")
        path = self._interaction_url(message.channel)
        if ephemeral:
            self._server.response_url_ephemerals[path] = (message.channel, ts)
        chan = self.workspace.channels.get(message.channel)
        rendered = {"type": "message", "ts": ts, "text": message.text, "blocks": message.blocks or []}
        payload = payloads.block_actions_payload(
            team_id=self.team_id,
            team_domain=self.team_domain,
            api_app_id=self.app_id,
            user=user,
            channel=message.channel,
            channel_name=chan.name if chan else "",
            message=rendered,
            is_ephemeral=ephemeral,
            action=button,
            action_ts=self.workspace.next_ts(),
            trigger_id=f"{self._event_seq}.{self.team_id[1:]}.{uuid.uuid4().hex}",
            response_url=f"{self.origin}{path}",
        )
        return self.deliver_interaction(payload, **opts)

    def message_shortcut(
        self, channel: str, ts: str, user: str, callback_id: str, **opts: Unpack[DeliveryOptions]
    ) -> Delivery:
        """``user`` picks a message shortcut on message ``ts`` (its ``response_url`` posts come back here)."""
        path = self._interaction_url(channel)
        ws = self.workspace
        with ws.lock:
            message = ws.find(channel, ts).to_api()
            chan = ws.channels[channel]
            user_name = ws.users[user].name if user in ws.users else ""
        payload = payloads.message_shortcut_payload(
            callback_id=callback_id,
            team_id=self.team_id,
            team_domain=self.team_domain,
            user=user,
            user_name=user_name,
            channel=channel,
            channel_name=chan.name,
            message=message,
            trigger_id=f"{self._event_seq}.{self.team_id[1:]}.{uuid.uuid4().hex}",
            action_ts=ws.next_ts(),
            response_url=f"{self.origin}{path}",
        )
        return self.deliver_interaction(payload, **opts)

    def deliver_interaction(self, payload: dict[str, Any], **opts: Unpack[DeliveryOptions]) -> Delivery:
        """POST an interaction the way Slack does: form-encoded, its JSON in one ``payload`` field, signed."""
        url = opts.get("url") or self.events_url
        if not url:
            raise ValueError("no url: pass url= or set SlackEmulator.events_url")
        delivery = Delivery(
            kind="interaction", url=url, event_id=None, body=urlencode({"payload": json.dumps(payload)})
        )
        kwargs = {k: v for k, v in opts.items() if k not in ("url", "event_id")}
        return self._call(
            self._deliverer.deliver(delivery, content_type="application/x-www-form-urlencoded", **kwargs)  # type: ignore[arg-type]
        )

    # ================================================================= channels changing who can read them
    EXTERNAL_TEAM = "T9EXT0001"

    def convert_event(self, channel: str, user: str, *, private: bool = True) -> dict[str, Any]:
        """`user` makes the channel private (or public): the state changes, Slack's system message lands in the
        channel, and its `message` event (subtype `channel_convert_to_private`/`_public`) is returned."""
        ws = self.workspace
        with ws.lock:
            ws.channels[channel].kind = "private" if private else "public"
            message = Message(
                channel=channel,
                ts=ws.next_ts(),
                user=user,
                text="made this channel *private*." if private else "made this channel *public*.",
                team=self.team_id,
                subtype="channel_convert_to_private" if private else "channel_convert_to_public",
            )
            ws.post(message)
            return payloads.channel_convert_event(user=user, channel=channel, ts=message.ts, private=private)

    def share_event(self, channel: str, *, shared: bool = True) -> dict[str, Any]:
        """The channel is shared with another organisation (`channel_shared`), or unshared again."""
        ws = self.workspace
        with ws.lock:
            ws.channels[channel].is_ext_shared = shared
            if shared:
                return payloads.channel_shared_event(
                    channel=channel, connected_team_id=self.EXTERNAL_TEAM, event_ts=ws.next_ts()
                )
            return payloads.channel_unshared_event(
                channel=channel,
                previously_connected_team_id=self.EXTERNAL_TEAM,
                is_ext_shared=False,
                event_ts=ws.next_ts(),
            )

    def archive_event(self, channel: str, user: str, *, undo: bool = False) -> dict[str, Any]:
        """`user` archives (or unarchives) the channel: `channel_archive`, or `group_archive` if it is private."""
        ws = self.workspace
        with ws.lock:
            target = ws.channels[channel]
            target.is_archived = not undo
            return payloads.channel_archive_event(
                channel=channel, user=user, event_ts=ws.next_ts(), private=target.is_private, undo=undo
            )

    def delete_channel_event(self, channel: str, user: str) -> dict[str, Any]:
        """`user` deletes the channel: it is gone (`channel_not_found` from now on); `channel_deleted` or
        `group_deleted`."""
        ws = self.workspace
        with ws.lock:
            target = ws.channels.pop(channel)
            return payloads.channel_deleted_event(
                channel=channel, actor_id=user, event_ts=ws.next_ts(), private=target.is_private, when=int(ws.clock())
            )

    # ================================================================= slash commands
    def command_body(self, command: str, text: str, *, channel: str, user: str) -> str:
        """The form body of a slash command; its `response_url` points back at this emulator."""
        ws = self.workspace
        with ws.lock:
            self._event_seq += 1
            seq = self._event_seq
            path = f"/commands/{self.team_id}/{7000000000 + seq}/{uuid.uuid4().hex[:24]}"
            self._server.response_url_channels[path] = channel
            chan = ws.channels.get(channel)
            fields = payloads.slash_command_form(
                command=command,
                text=text,
                team_id=self.team_id,
                team_domain=self.team_domain,
                channel_id=channel,
                channel_name=chan.name if chan else "",
                user_id=user,
                user_name=ws.users[user].name if user in ws.users else "",
                api_app_id=self.app_id,
                response_url=f"{self.origin}{path}",
                trigger_id=f"{seq}.{self.team_id[1:]}.{uuid.uuid4().hex}",
            )
        return urlencode(fields)

    def _command_delivery(
        self, command: str, text: str, channel: str, user: str, opts: DeliveryOptions
    ) -> tuple[Delivery, dict[str, Any]]:
        url = opts.get("url") or self.events_url
        if not url:
            raise ValueError("no url: pass url= or set SlackEmulator.events_url")
        delivery = Delivery(
            kind="command", url=url, event_id=None, body=self.command_body(command, text, channel=channel, user=user)
        )
        return delivery, {k: v for k, v in opts.items() if k not in ("url", "event_id")}

    def deliver_command(
        self, command: str, text: str, *, channel: str, user: str, **opts: Unpack[DeliveryOptions]
    ) -> Delivery:
        """Send a signed slash command (form-encoded). Replies to `response_url` appear in
        `response_url_posts()`."""
        delivery, kwargs = self._command_delivery(command, text, channel, user, opts)
        return self._call(self._deliverer.deliver(delivery, content_type="application/x-www-form-urlencoded", **kwargs))

    async def adeliver_command(
        self, command: str, text: str, *, channel: str, user: str, **opts: Unpack[DeliveryOptions]
    ) -> Delivery:
        delivery, kwargs = self._command_delivery(command, text, channel, user, opts)
        return await self._acall(
            self._deliverer.deliver(delivery, content_type="application/x-www-form-urlencoded", **kwargs)
        )

    # ================================================================= Socket Mode
    def socket_event(self, payload: dict[str, Any], *, event_id: str | None = None, retry_attempt: int = 0) -> str:
        """Send an event over the bot's Socket Mode connection (wrapped in `event_callback` if needed); returns
        the envelope id, which the bot must ack (`socket_mode.acked(envelope_id)`)."""
        if payload.get("type") != "event_callback":
            payload = self.envelope(payload, event_id=event_id)
        return self._call(self.socket_mode.send("events_api", payload, retry_attempt=retry_attempt))

    # ================================================================= waiting
    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, *, interval: float = 0.02, what: str = "condition"
    ) -> T:
        """Poll `predicate` until it returns something truthy and return that; TimeoutError otherwise.
        Blocks the thread: from a test whose bot shares its event loop, use `await_for`."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{what} not met within {timeout} s")
            time.sleep(interval)

    async def await_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, *, interval: float = 0.02, what: str = "condition"
    ) -> T:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{what} not met within {timeout} s")
            await asyncio.sleep(interval)


__all__ = ["DeliveryOptions", "SlackEmulator"]
