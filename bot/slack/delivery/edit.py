"""One message of a reply shown by ``chat.postMessage`` then ``chat.update`` edits (the classic way to stream).

Progress edits are optional: each is tried once, within the per-message interval and the workspace budget, and a
failure of any kind is logged and skipped (a 429 also pauses this message's progress for ``Retry-After``). The final
edit must land: it is retried (``Retry-After`` honoured), and if the message can no longer be edited — deleted,
not ours, past the edit window — the text is posted as a new message in the same thread instead.
"""

from __future__ import annotations

import structlog

from bot.slack.blocks import CacheNote, message_blocks
from bot.slack.delivery.calls import CallResult, Failure
from bot.slack.delivery.target import Target
from bot.slack.formatting import to_mrkdwn
from bot.slack.update_budget import UPDATE

log = structlog.get_logger(__name__)

CURSOR = " ▍"


class EditMessage:
    method = UPDATE

    def __init__(self, target: Target, ts: str | None = None) -> None:
        self._target = target
        self.ts = ts
        self._shown: str | None = None
        self._last_change = float("-inf")
        self._paused_until = float("-inf")
        self._gone = False  # chat.update said this message cannot be edited: the final will post anew

    @property
    def shown(self) -> str | None:
        """The text Slack shows now (None until something was posted or edited in)."""
        return self._shown

    async def post(self, source: str) -> CallResult:
        """Post this message (a placeholder, or the "…" of a continuation)."""
        text = to_mrkdwn(source)
        target = self._target
        result = await target.calls.post(target.channel, target.thread_ts, text)
        if result.ok:
            self.ts, self._shown, self._last_change = result.ts, text, target.clock()
        return result

    async def status(self, source: str) -> bool:
        """A progress line in place of the placeholder: waits for its turn (statuses are few and in order)."""
        await self._target.wait_turn(self._last_change)
        return await self.progress(source, cursor=False)

    async def progress(self, source: str, *, cursor: bool = True) -> bool:
        """Show ``source`` if Slack may be asked now; True when it is shown (now or already).

        Every progress edit — first words included — leaves the slots held for finals free: under load a reply
        may show its placeholder until its final text, but no final waits for another reply's progress.
        """
        text = to_mrkdwn(source) + (CURSOR if cursor else "")
        target = self._target
        if text == self._shown:
            return True
        now = target.clock()
        if self.ts is None or self._gone or now < self._last_change + target.interval_s or now < self._paused_until:
            return False
        if not await target.budget.try_take(UPDATE, progress=True):
            return False
        result = await target.calls.once("chat.update", channel=target.channel, ts=self.ts, text=text, blocks=[])
        self._last_change = target.clock()
        if result.ok:
            self._shown = text
            return True
        if result.failure is Failure.RATE_LIMITED:
            self._paused_until = self._last_change + (result.retry_after_s or 1.0)
        elif result.failure is Failure.GONE:
            self._gone = True
        log.info("delivery.progress_skipped", method="chat.update", error=result.error)
        return False

    async def final(self, source: str, note: CacheNote | None = None) -> bool:
        """Make this message show ``source`` for good; True when Slack shows it (here or in a new message)."""
        text = to_mrkdwn(source) or "…"
        blocks = message_blocks(source, note)
        if text == self._shown and note is None:
            return True
        target = self._target
        if self.ts is not None and not self._gone:
            await target.wait_turn(self._last_change)
            result = await target.calls.must(
                "chat.update",
                before=lambda: target.budget.take(UPDATE),
                channel=target.channel,
                ts=self.ts,
                text=text,
                blocks=blocks,
            )
            if result.ok:
                self._shown, self._last_change = text, target.clock()
                return True
            if blocks and result.error in ("invalid_blocks", "msg_blocks_too_long", "msg_too_long"):
                return await self.final_text_only(text)
            log.warning("delivery.final_edit_failed", error=result.error, failure=str(result.failure))
        return await self._post_anew(text, blocks)

    async def final_text_only(self, text: str) -> bool:
        """The blocks were refused: the words matter more than the button."""
        target = self._target
        result = await target.calls.must("chat.update", channel=target.channel, ts=self.ts, text=text, blocks=[])
        if result.ok:
            self._shown = text
            return True
        return await self._post_anew(text, [])

    async def _post_anew(self, text: str, blocks: list[dict[str, object]]) -> bool:
        target = self._target
        result = await target.calls.post(target.channel, target.thread_ts, text, blocks=blocks or None)
        if not result.ok and blocks:
            result = await target.calls.post(target.channel, target.thread_ts, text)
        if result.ok:
            log.info("delivery.posted_anew", replaced=self.ts is not None)
            self.ts, self._shown, self._gone, self._last_change = result.ts, text, False, target.clock()
            return True
        log.error("delivery.final_lost", error=result.error)
        return False
