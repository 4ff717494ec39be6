"""A reply's streamer against the Slack emulator: throttled progress, long replies split, Slack failures survived.

Each test names the guarantee it shows: a failing progress edit is skipped and streaming goes on; the final text
always lands (retried, ``Retry-After`` honoured, or posted anew); words shown are never replaced by an error.
"""

from __future__ import annotations

import asyncio
import itertools

from bot.replies import PLACEHOLDER_TEXT
from bot.slack.blocks import CacheNote
from bot.slack.formatting import to_mrkdwn
from bot.slack.streamer import StreamMode
from tests.harness.slack_emulator import SlackFault
from tests.unit.bot.slack.conftest import Room

ANSWER = "The launch moved to Thursday because the payments review needs two more days, and support is ready."


async def stream(streamer, text: str, *, step: int = 9, pause: float = 0.02) -> None:  # type: ignore[no-untyped-def]
    for i in range(0, len(text), step):
        streamer.append(text[i : i + step])
        await asyncio.sleep(pause)


def is_progress(params: dict) -> bool:  # type: ignore[type-arg]
    return "▍" in str(params.get("text", ""))


def is_final(params: dict) -> bool:  # type: ignore[type-arg]
    return str(params.get("text", "")) == ANSWER


async def test_streams_into_the_placeholder_within_the_interval(room: Room) -> None:
    streamer = room.streamer(interval_s=0.2)
    await streamer.open(PLACEHOLDER_TEXT)
    await stream(streamer, ANSWER, step=5, pause=0.05)
    assert await streamer.finish() == [m.ts for m in room.replies()]
    assert streamer.delivered and room.texts() == [ANSWER]
    history = room.slack.edit_history(room.channel, room.replies()[0].ts)
    assert history[0].text == PLACEHOLDER_TEXT and any("▍" in r.text for r in history)
    gaps = [b.monotonic - a.monotonic for a, b in itertools.pairwise(history)]
    assert min(gaps) >= 0.18, gaps


async def test_a_failing_progress_edit_is_skipped_and_streaming_goes_on(room: Room) -> None:
    room.slack.inject("chat.update", SlackFault.internal_error(), match=is_progress)
    streamer = room.streamer()
    await streamer.open(PLACEHOLDER_TEXT)
    await stream(streamer, ANSWER)
    await streamer.finish()
    assert room.texts() == [ANSWER]
    progress = [c for c in room.slack.calls("chat.update") if c.ok and "▍" in str(c.params.get("text"))]
    assert progress, "progress edits continued after the failed one"


async def test_the_final_edit_is_retried_through_failures_and_rate_limits(room: Room) -> None:
    room.slack.inject("chat.update", SlackFault.internal_error(), match=is_final)
    room.slack.inject("chat.update", SlackFault.http_5xx(), match=is_final)
    room.slack.inject("chat.update", SlackFault.ratelimited(retry_after=1), match=is_final)
    streamer = room.streamer()
    await streamer.open(PLACEHOLDER_TEXT)
    await stream(streamer, ANSWER)
    started = asyncio.get_running_loop().time()
    await streamer.finish()
    assert asyncio.get_running_loop().time() - started >= 1.0, "Retry-After was waited out"
    assert streamer.delivered and room.texts() == [ANSWER]


async def test_a_message_that_cannot_be_edited_gets_the_answer_as_a_new_message(room: Room) -> None:
    room.slack.inject("chat.update", SlackFault.message_not_found(), match=is_final)  # someone deleted it
    streamer = room.streamer()
    await streamer.open(PLACEHOLDER_TEXT)
    await stream(streamer, ANSWER)
    message_ts = await streamer.finish()
    assert room.texts() == [ANSWER], "exactly one visible reply: the new one"
    assert message_ts == [room.replies()[0].ts]


async def test_an_ambiguous_post_failure_is_looked_up_not_posted_twice(room: Room) -> None:
    room.slack.inject("chat.postMessage", SlackFault.fatal_error(effect=True))  # it was posted, then failed
    streamer = room.streamer()
    await streamer.open(PLACEHOLDER_TEXT)
    await stream(streamer, ANSWER)
    await streamer.finish()
    assert room.texts() == [ANSWER]


async def test_a_placeholder_that_fails_once_is_retried(room: Room) -> None:
    room.slack.inject("chat.postMessage", SlackFault.internal_error())
    streamer = room.streamer()
    assert await streamer.open(PLACEHOLDER_TEXT)
    await stream(streamer, ANSWER)
    await streamer.finish()
    assert room.texts() == [ANSWER]


async def test_fail_after_words_were_shown_keeps_them_and_adds_the_sentence(room: Room) -> None:
    streamer = room.streamer()
    await streamer.open(PLACEHOLDER_TEXT)
    await stream(streamer, ANSWER)
    await streamer.fail(":warning: Sorry, something went wrong.")
    assert room.texts() == [f"{ANSWER}\n\n:warning: Sorry, something went wrong."]
    await streamer.fail("never shown: the reply is finished")
    assert room.texts() == [f"{ANSWER}\n\n:warning: Sorry, something went wrong."]


async def test_fail_before_any_words_replaces_the_placeholder(room: Room) -> None:
    streamer = room.streamer()
    await streamer.open(PLACEHOLDER_TEXT)
    await streamer.fail(":no_entry: Not here.")
    assert room.texts() == [":no_entry: Not here."]


async def test_a_long_reply_continues_in_order_and_every_message_fits(room: Room) -> None:
    paragraph = "This is a sentence that keeps going & going. " * 5
    text = "\n\n".join([paragraph] * 6) + "\n\n```python\n" + "x = 1  # <tag>\n" * 30 + "```"
    streamer = room.streamer(max_chars=400)
    await streamer.open(PLACEHOLDER_TEXT)
    await stream(streamer, text, step=40, pause=0.01)
    message_ts = await streamer.finish()
    replies = room.replies()
    assert [r.ts for r in replies] == message_ts and len(replies) >= 5
    assert all(len(r.text) <= 400 for r in replies)
    assert all(r.text.count("```") % 2 == 0 for r in replies)
    assert "".join(r.text for r in replies).count("This is a sentence") == 30


async def test_a_long_cached_answer_shows_each_part_once(room: Room) -> None:
    answer = "\n\n".join(f"Paragraph {i}: " + "words and more words " * 12 for i in range(12))
    streamer = room.streamer(max_chars=1000)
    await streamer.open(PLACEHOLDER_TEXT)
    await streamer.finish(answer + "\n\n_⚡ from cache · asked 1 hour ago_", note=CacheNote({"entry": "T1:1"}))
    replies = room.replies()
    assert len(replies) >= 3
    assert all(not r.blocks for r in replies[:-1]), "earlier parts carry no blocks"
    last = replies[-1].blocks or []
    sections = "".join(b["text"]["text"] for b in last if b["type"] == "section")
    assert sections.replace("\n", "") == replies[-1].text.replace("\n", ""), "the last blocks hold its own part only"
    assert last[-1]["type"] == "actions" and "from cache" in last[-2]["text"]["text"]
    shown = "".join(r.text for r in replies)
    assert all(shown.count(f"Paragraph {i}:") == 1 for i in range(12))


async def test_a_bug_in_progress_never_ends_streaming(room: Room, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    streamer = room.streamer()
    await streamer.open(PLACEHOLDER_TEXT)
    calls = {"n": 0}
    original = streamer._sync

    async def flaky(*, final: bool, note: CacheNote | None = None) -> bool:
        calls["n"] += 1
        if not final and calls["n"] == 1:
            raise RuntimeError("bug")
        return await original(final=final, note=note)

    monkeypatch.setattr(streamer, "_sync", flaky)
    await stream(streamer, ANSWER)
    await streamer.finish()
    assert room.texts() == [ANSWER] and calls["n"] > 2


async def test_native_streaming_appends_finished_blocks_then_stops(room: Room) -> None:
    text = "First paragraph of the answer.\n\nSecond one, with `code`.\n\n- a list\n- to end"
    streamer = room.streamer(mode=StreamMode.AUTO, interval_s=0.05)
    await streamer.open(PLACEHOLDER_TEXT)
    await stream(streamer, text, step=6, pause=0.03)
    await streamer.finish(text + "\n\n_a note_")
    (reply,) = room.replies()
    assert room.slack.is_streamed(room.channel, reply.ts)
    assert reply.text == "First paragraph of the answer.\n\nSecond one, with `code`.\n\n- a list\n- to end\n\n*a note*"
    methods = [c.method for c in room.slack.calls() if c.method.startswith("chat.")]
    assert methods[0] == "chat.startStream" and methods[-1] == "chat.stopStream"
    assert "chat.update" not in methods and "chat.postMessage" not in methods
    appends = [str(c.params["markdown_text"]) for c in room.slack.calls("chat.appendStream")]
    assert len(appends) >= 2 and appends[0].startswith("First paragraph")


async def test_native_refused_falls_back_to_edits_and_auto_mode_remembers(room: Room) -> None:
    room.slack.fail_next("chat.startStream", "not_allowed_token_type")
    streamers = room.streamers(mode=StreamMode.AUTO)
    streamer = room.streamer(streamers=streamers)
    await streamer.open(PLACEHOLDER_TEXT)
    await stream(streamer, ANSWER)
    await streamer.finish()
    (reply,) = room.replies()
    assert not room.slack.is_streamed(room.channel, reply.ts) and reply.text == ANSWER
    second = room.streamer(streamers=streamers)
    await second.open(PLACEHOLDER_TEXT)
    await second.finish("ok")
    assert len(room.slack.calls("chat.startStream")) == 1, "the method itself was refused: not asked again"


async def test_a_transient_start_failure_only_sends_that_reply_to_edits(room: Room) -> None:
    room.slack.fail_next("chat.startStream", "internal_error")
    streamers = room.streamers(mode=StreamMode.AUTO)
    for _ in range(2):
        streamer = room.streamer(streamers=streamers)
        await streamer.open(PLACEHOLDER_TEXT)
        await streamer.finish("ok")
    assert [room.slack.is_streamed(room.channel, r.ts) for r in room.replies()] == [False, True]


async def test_a_reply_outside_a_thread_uses_edits(room: Room) -> None:
    streamer = room.streamer(mode=StreamMode.NATIVE, thread=False)
    ts = await streamer.open(PLACEHOLDER_TEXT)
    await streamer.finish("Top-level.")
    assert room.slack.message(room.channel, ts).text == "Top-level." and not room.slack.calls("chat.startStream")


async def test_a_failed_append_is_taken_over_by_edits_on_the_same_message(room: Room) -> None:
    room.slack.inject("chat.appendStream", SlackFault.fatal_error(effect=True))  # landed, then failed: unknown
    text = "One paragraph here.\n\nAnother paragraph there.\n\nAnd the end."
    streamer = room.streamer(mode=StreamMode.NATIVE)
    await streamer.open(PLACEHOLDER_TEXT)
    await stream(streamer, text)
    await streamer.finish()
    (reply,) = room.replies()
    assert reply.text == to_mrkdwn(text), "chat.update put the whole text in, nothing doubled"


async def test_a_deleted_stream_gets_the_answer_as_a_new_message(room: Room) -> None:
    room.slack.inject("chat.appendStream", SlackFault.message_not_found())
    streamer = room.streamer(mode=StreamMode.NATIVE)
    await streamer.open(PLACEHOLDER_TEXT)
    await stream(streamer, ANSWER + "\n\nMore.")
    await streamer.finish()
    assert room.texts() == [to_mrkdwn(ANSWER + "\n\nMore.")]


async def test_status_replaces_the_placeholder_until_text_streams(room: Room) -> None:
    streamer = room.streamer(interval_s=0.2, thread=False)
    ts = await streamer.open(PLACEHOLDER_TEXT)
    await streamer.show_status("Summarizing part 1 of 2…")
    await streamer.show_status("Summarizing part 2 of 2…")
    streamer.append("The summary.")
    await streamer.show_status("too late: text is streaming")
    await streamer.finish()
    message = room.slack.bot_messages(room.channel)
    assert [m.ts for m in message] == [ts] and message[0].thread_ts is None, "a top-level message"
    texts = [r.text for r in room.slack.edit_history(room.channel, ts)]
    assert texts[1:3] == ["_Summarizing part 1 of 2…_", "_Summarizing part 2 of 2…_"]
    assert texts[-1] == "The summary." and not any("too late" in t for t in texts)
