"""The similarity bar against the real MiniLM model: questions about a pin pick it, unrelated questions pick none.

These cases are the ones ``PinSettings`` quotes for its calibration (cosines measured with the packaged model).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.pins.board import PinnedItem
from bot.pins.selection import PinSelector, PinSettings, PinVectors
from cache.embedder import Embedder

pytestmark = pytest.mark.slow

PINS = {
    "travel": "Travel policy: economy class for flights under 6 hours; business class allowed above 6 hours with "
    "manager approval. Hotels up to 180 EUR per night.",
    "oncall": "On-call rota: the primary on-call engineer rotates every Monday at 10:00. Escalate to the secondary "
    "after 15 minutes without ack.",
    "launch": "Q3 launch checklist: freeze the release branch on Sept 2, run load tests, update the status page, "
    "notify support.",
    "pto": "Our PTO policy gives everyone 25 days a year, plus public holidays. Carry-over of up to 5 days until "
    "March 31.",
    "expenses": "Expense reports are due by the 5th of each month via Expensify; receipts over 25 EUR required.",
}
RELEVANT = [
    ("can I fly business class to Singapore?", "travel"),
    ("what's the hotel limit per night?", "travel"),
    ("who do I escalate to if on-call doesn't answer?", "oncall"),
    ("when do we freeze the release branch?", "launch"),
    ("how many vacation days do I get?", "pto"),
    ("can I carry over unused holidays?", "pto"),
    ("when are expense reports due?", "expenses"),
]
UNRELATED = [
    "what's the capital of France?",
    "how do I center a div in CSS?",
    "write a haiku about autumn",
    "what time is the standup tomorrow?",
    "how do I reset my laptop password?",
    "What's the wifi password?",
]


class Board:
    async def items(self, team_id: str, channel_id: str) -> list[PinnedItem]:
        return [PinnedItem(name, "message", text, version="1") for name, text in PINS.items()]


@pytest.fixture(scope="module")
def embedder() -> Iterator[Embedder]:
    model = Embedder()
    yield model
    model.close()


@pytest.mark.parametrize(("question", "pin"), RELEVANT)
async def test_a_question_about_a_pin_selects_that_pin_only(embedder: Embedder, question: str, pin: str) -> None:
    selector = PinSelector(Board(), settings=PinSettings(), vectors=PinVectors(embedder.aembed_many))
    selection = await selector.select("T1", "C1", question, await embedder.aembed(question))
    assert [p.item.pin_id for p in selection.pins] == [pin]


@pytest.mark.parametrize("question", UNRELATED)
async def test_an_unrelated_question_selects_no_pin(embedder: Embedder, question: str) -> None:
    selector = PinSelector(Board(), settings=PinSettings(), vectors=PinVectors(embedder.aembed_many))
    selection = await selector.select("T1", "C1", question, await embedder.aembed(question))
    assert selection.pins == ()
