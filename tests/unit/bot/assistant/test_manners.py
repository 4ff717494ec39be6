"""Thread manners: what in a joined thread is for Penny, decided from the words and the thread's state alone."""

from __future__ import annotations

import pytest

from bot.assistant.manners import (
    PENNY,
    FollowUps,
    ThreadState,
    Verdict,
    addresses_someone_else,
    decide,
    is_acknowledgement,
    is_question_or_request,
)

ALICE, BOB = "U0ALICE", "U0BOB"
AFTER_PENNY = ThreadState(askers=frozenset({ALICE}), last_author=PENNY)
AFTER_BOB = ThreadState(askers=frozenset({ALICE}), last_author=BOB)


@pytest.mark.parametrize(
    "text",
    [
        "thanks!",
        "Thanks Bob",
        "thank you so much",
        "ok",
        "OK cool, thanks",
        "got it",
        "👍",
        ":+1:",
        ":pray: :tada:",
        "perfect",
        "sounds good",
        "great work",
        "ty",
    ],
)
def test_acknowledgements_never_cost_a_model_call(text: str) -> None:
    assert is_acknowledgement(text)
    for mode in FollowUps:
        assert decide(mode, author=ALICE, text=text, state=AFTER_PENNY) is Verdict.ACKNOWLEDGEMENT


@pytest.mark.parametrize("text", ["thanks, and what about Friday?", "ok so how do I book it", "great, make it shorter"])
def test_thanks_followed_by_a_real_ask_is_not_an_acknowledgement(text: str) -> None:
    assert not is_acknowledgement(text)


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("and what time?", True),
        ("what time does it start", True),
        ("make it shorter", True),
        ("please add the Berlin office", True),
        ("今週のリリースはいつですか？", True),
        ("yes, room 4 at 10", False),
        ("the Berlin one", False),
        ("I booked it yesterday", False),
    ],
)
def test_questions_and_requests(text: str, asks: bool) -> None:
    assert is_question_or_request(text) is asks


def test_people_talking_to_each_other_are_left_alone() -> None:
    """Bob asks Alice (by name, or by mention), Alice answers Bob: neither is for Penny."""
    assert addresses_someone_else("Alice, did you book the room?")
    assert addresses_someone_else("<@U0ALICE> did you book the room?")
    assert decide(FollowUps.ADDRESSED, author=BOB, text="Alice, did you book the room?", state=AFTER_PENNY) is (
        Verdict.IGNORE
    )
    assert decide(FollowUps.ADDRESSED, author=ALICE, text="yes, room 4 at 10", state=AFTER_BOB) is Verdict.IGNORE
    assert decide(FollowUps.ADDRESSED, author=ALICE, text="Bob, can you send the invite?", state=AFTER_BOB) is (
        Verdict.IGNORE
    )


def test_what_is_addressed_to_penny_is_answered() -> None:
    # the asker's follow-up question, even after others talked
    assert decide(FollowUps.ADDRESSED, author=ALICE, text="and what time does it start?", state=AFTER_BOB) is (
        Verdict.ANSWER
    )
    # the asker replying right after Penny (a clarification, no question mark)
    assert decide(FollowUps.ADDRESSED, author=ALICE, text="the Berlin one", state=AFTER_PENNY) is Verdict.ANSWER
    # anyone's question right after Penny's reply
    assert decide(FollowUps.ADDRESSED, author=BOB, text="does that include contractors?", state=AFTER_PENNY) is (
        Verdict.ANSWER
    )
    # Penny by name
    assert decide(FollowUps.ADDRESSED, author=BOB, text="Penny, which room is free?", state=AFTER_BOB) is (
        Verdict.ANSWER
    )


def test_someone_else_not_after_penny_is_not_answered_without_a_mention() -> None:
    assert decide(FollowUps.ADDRESSED, author=BOB, text="what time is it in Tokyo?", state=AFTER_BOB) is (
        Verdict.IGNORE
    )
    assert decide(FollowUps.ADDRESSED, author=BOB, text="I think so too", state=AFTER_PENNY) is Verdict.IGNORE


def test_the_modes() -> None:
    chatter = "Alice, did you book the room?"
    assert decide(FollowUps.ALL, author=BOB, text=chatter, state=AFTER_BOB) is Verdict.ANSWER
    assert decide(FollowUps.MENTION_ONLY, author=ALICE, text="and what time?", state=AFTER_PENNY) is Verdict.IGNORE
