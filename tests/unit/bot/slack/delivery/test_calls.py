"""Delivery's Slack calls against the emulator: what each failure means, and how a must-land call is retried."""

from __future__ import annotations

from bot.slack.delivery.calls import DeliveryRetry, Failure, SlackCalls
from tests.harness.slack_emulator import SlackFault
from tests.unit.bot.slack.conftest import Room


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def calls(room: Room, sleeps: Sleeps, attempts: int = 6) -> SlackCalls:
    return SlackCalls(room.client(), retry=DeliveryRetry(attempts=attempts, backoff_base_s=0.2), sleep=sleeps)


async def test_every_failure_is_sorted_by_what_it_means_for_delivery(room: Room) -> None:
    api = calls(room, Sleeps())
    for fault, failure in [
        (SlackFault.internal_error(), Failure.TRANSIENT),
        (SlackFault.fatal_error(effect=False), Failure.TRANSIENT),
        (SlackFault.http_5xx(503), Failure.TRANSIENT),
        (SlackFault.ratelimited(7), Failure.RATE_LIMITED),
        (SlackFault("error", "invalid_blocks"), Failure.REJECTED),
    ]:
        room.slack.inject("chat.postMessage", fault)
        result = await api.once("chat.postMessage", channel=room.channel, text="x")
        assert not result.ok and result.failure is failure, fault
    posted = await api.once("chat.postMessage", channel=room.channel, text="x")
    room.slack.inject("chat.update", SlackFault.message_not_found())
    gone = await api.once("chat.update", channel=room.channel, ts=posted.ts, text="y")
    assert gone.failure is Failure.GONE
    room.slack.inject("chat.postMessage", SlackFault.ratelimited(7))
    assert (await api.once("chat.postMessage", channel=room.channel, text="x")).retry_after_s == 7.0


async def test_a_must_land_call_waits_retry_after_and_backs_off(room: Room) -> None:
    sleeps = Sleeps()
    api = calls(room, sleeps)
    posted = await api.once("chat.postMessage", channel=room.channel, text="x")
    room.slack.inject("chat.update", SlackFault.ratelimited(3))
    room.slack.inject("chat.update", SlackFault.internal_error(), times=2)
    result = await api.must("chat.update", channel=room.channel, ts=posted.ts, text="final")
    assert result.ok and room.slack.message(room.channel, posted.ts or "").text == "final"
    assert sleeps.waits[0] >= 3.0, "never earlier than Retry-After"
    assert len(sleeps.waits) == 3 and all(w < 3 for w in sleeps.waits[1:])


async def test_a_refusal_is_not_retried_and_attempts_are_bounded(room: Room) -> None:
    sleeps = Sleeps()
    api = calls(room, sleeps, attempts=3)
    room.slack.inject("chat.postMessage", SlackFault("error", "not_in_channel"))
    assert (await api.post(room.channel, None, "x")).error == "not_in_channel" and sleeps.waits == []
    room.slack.inject("chat.postMessage", SlackFault.internal_error(), times=5)
    result = await api.post(room.channel, None, "x")
    assert not result.ok and len(sleeps.waits) == 2


async def test_a_post_that_landed_before_failing_is_found_not_repeated(room: Room) -> None:
    api = calls(room, Sleeps())
    room.slack.inject("chat.postMessage", SlackFault.fatal_error(effect=True))
    result = await api.post(room.channel, room.question_ts, "only once")
    assert result.ok and [m.text for m in room.replies()] == ["only once"]
    assert result.ts == room.replies()[0].ts


async def test_a_transport_failure_is_a_result_not_an_exception(room: Room) -> None:
    api = SlackCalls(room.client(), retry=DeliveryRetry(attempts=1))
    room.slack.stop()
    result = await api.once("chat.postMessage", channel=room.channel, text="x")
    assert not result.ok and result.failure is Failure.TRANSIENT


async def test_rate_limits_are_waited_out_within_a_time_budget_not_a_count_of_attempts(room: Room) -> None:
    """Twenty answers finishing in one channel at once share Slack's one post a second: the last one waits about
    twenty Retry-Afters. Six tries (the transient-failure bound) lost it; 429s draw on a time budget instead."""
    sleeps = Sleeps()
    api = SlackCalls(room.client(), retry=DeliveryRetry(attempts=3, rate_limited_s=30.0), sleep=sleeps)
    room.slack.inject("chat.postMessage", SlackFault.ratelimited(1), times=12)
    result = await api.post(room.channel, room.question_ts, "the answer")
    assert result.ok and [m.text for m in room.replies()] == ["the answer"]
    assert len(sleeps.waits) == 12 and all(w >= 1.0 for w in sleeps.waits)

    room.slack.inject("chat.update", SlackFault.ratelimited(10), times=5)
    edited = await api.must("chat.update", channel=room.channel, ts=result.ts, text="edited")
    assert not edited.ok and edited.failure is Failure.RATE_LIMITED, "past the budget (30 s of waits) it gives up"
    assert sum(sleeps.waits[12:]) <= 30.0
