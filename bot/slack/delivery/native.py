"""One message of a reply shown by Slack's native streaming: ``chat.startStream`` → ``appendStream``… → ``stopStream``.

A stream only grows, so what is appended must never need taking back: while the model writes, only *finished*
top-level blocks are appended (their rendering cannot change, ``formatting/render.py``), and the rest follows in
the final append. The final text is made visible by ``chat.appendStream`` (tier 4, about 100 a minute) and the
stream is then closed by ``chat.stopStream`` (tier 2), which also carries a cached answer's note blocks.

Slack may refuse native streaming anywhere (an old workspace, a missing scope, a surface without a thread or a
recipient, a rate limit): ``start`` then says no and the reply uses ``chat.update`` edits instead. If an append
fails in a way that leaves its effect unknown, or the stream is gone, the message is *taken over* by an
``EditMessage`` on the same ts (``chat.update`` works on a streamed message), so the guarantees stay the same.
"""

from __future__ import annotations

from typing import Any

import structlog

from bot.slack.blocks import CacheNote, note_blocks
from bot.slack.delivery.calls import CallResult, Failure
from bot.slack.delivery.edit import EditMessage
from bot.slack.delivery.target import Target
from bot.slack.formatting import markdown_blocks, to_markdown
from bot.slack.update_budget import APPEND, START, STOP, UPDATE

log = structlog.get_logger(__name__)

APPEND_LIMIT = 12_000  # Slack's limit on one markdown_text


class NativeMessage:
    method = APPEND

    def __init__(self, target: Target) -> None:
        self._target = target
        self.ts: str | None = None
        self._sent = ""  # markdown appended so far (what the stream shows)
        self._last_change = float("-inf")
        self._takeover: EditMessage | None = None
        self.start_error = ""  # why Slack refused the stream, for the caller's mode decision

    @property
    def taken_over(self) -> bool:
        return self._takeover is not None

    async def start(self) -> bool:
        """Open the stream (Slack shows the message as being written); False when the reply must use edits."""
        target = self._target
        if not target.thread_ts or not target.recipient_user_id:
            self.start_error = "no_thread_or_recipient"
            return False
        if not await target.budget.try_take(START):
            self.start_error = "budget"
            return False
        since = target.calls.ts_ago(5)
        result = await target.calls.once(
            "chat.startStream",
            channel=target.channel,
            thread_ts=target.thread_ts,
            recipient_user_id=target.recipient_user_id,
            recipient_team_id=target.team_id,
        )
        if result.ok and result.ts:
            self.ts, self._last_change = result.ts, target.clock()
            return True
        self.start_error = result.error
        if result.failure is Failure.TRANSIENT:  # the stream may exist after all: adopt it rather than orphan it
            found = await target.calls.find_own(
                target.channel, target.thread_ts, since, lambda m: bool(m.get("bot_id")) and not m.get("text")
            )
            if found is not None:
                log.info("delivery.stream_adopted", error=result.error)
                self.ts = found
                await self._take_over("start_" + result.error)
                return True
        log.info("delivery.native_refused", error=result.error)
        return False

    async def progress(self, source: str) -> bool:
        """Append the blocks of ``source`` that are finished and not yet shown."""
        if self._takeover is not None:
            return await self._takeover.progress(source)
        target = self._target
        finished = "\n\n".join(markdown_blocks(source)[:-1])
        addition = self._addition(finished)
        if not addition:
            return True
        if self.ts is None or target.clock() < self._last_change + target.interval_s:
            return False
        if not await target.budget.try_take(APPEND, progress=True):
            return False
        result = await self._append(addition)
        if result.ok:
            return True
        if result.failure is not Failure.RATE_LIMITED:  # unknown whether it landed, or the stream is gone
            await self._take_over(result.error)
        return False

    async def final(self, source: str, note: CacheNote | None = None) -> bool:
        """Append the rest of ``source``, then close the stream; True when Slack shows the whole text."""
        if self._takeover is not None:
            return await self._takeover.final(source, note)
        target = self._target
        text = to_markdown(source) or "…"
        addition = self._addition(text)
        if addition is None:  # what was streamed is not a prefix of the final text: only an edit can fix that
            log.warning("delivery.stream_diverged")
            await self._take_over("diverged")
            assert self._takeover is not None
            return await self._takeover.final(source, note)
        while addition:
            chunk = addition[:APPEND_LIMIT]
            await target.wait_turn(self._last_change)
            result = await target.calls.must(
                "chat.appendStream",
                before=lambda: target.budget.take(APPEND),
                retry_transient=False,  # an append that may have landed must not be sent twice
                **self._where(chunk),
            )
            if result.ok:
                self._sent += chunk
                self._last_change = target.clock()
                addition = addition[len(chunk) :]
                continue
            await self._take_over(result.error)
            assert self._takeover is not None
            return await self._takeover.final(source, note)
        await self._stop(source, note)
        return True

    def _addition(self, text: str) -> str | None:
        """What to append so the stream shows ``text``; None when it cannot be reached by appending."""
        if not text.startswith(self._sent):
            return None
        return text[len(self._sent) :]

    def _where(self, markdown: str) -> dict[str, Any]:
        target = self._target
        return {"channel": target.channel, "ts": self.ts, "markdown_text": markdown}

    async def _append(self, markdown: str) -> CallResult:
        result = await self._target.calls.once("chat.appendStream", **self._where(markdown))
        self._last_change = self._target.clock()
        if result.ok:
            self._sent += markdown
        else:
            log.info("delivery.progress_skipped", method="chat.appendStream", error=result.error)
        return result

    async def _stop(self, source: str, note: CacheNote | None) -> None:
        """Close the stream (the text is already visible); a note that cannot be attached is edited in."""
        target = self._target
        blocks = note_blocks(note) if note is not None else None
        kwargs: dict[str, Any] = {"channel": target.channel, "ts": self.ts}
        if blocks:
            kwargs["blocks"] = blocks
        result = await target.calls.must("chat.stopStream", before=lambda: target.budget.take(STOP), **kwargs)
        if result.ok or (result.error == "message_not_in_streaming_state" and note is None):
            return
        log.warning("delivery.stop_failed", error=result.error)
        if note is not None or result.error == "message_not_found":  # the button, or the whole message, is missing
            await self._take_over("stop_" + result.error)
            assert self._takeover is not None
            await self._takeover.final(source, note)

    async def _take_over(self, reason: str) -> None:
        """From now on this message is shown by ``chat.update`` edits on the same ts."""
        if self._takeover is not None:
            return
        log.info("delivery.native_taken_over", reason=reason)
        target = self._target
        await target.budget.hold(UPDATE, target.reply_id)
        self._takeover = EditMessage(target, ts=self.ts)
        if self.ts is not None and not reason.startswith("stop_"):  # best effort: leave no stream open
            await target.calls.once("chat.stopStream", channel=target.channel, ts=self.ts)
