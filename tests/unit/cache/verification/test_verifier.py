"""Verifier: word alignment refuses an added or swapped content word, tolerates only true rewordings."""

from __future__ import annotations

import numpy as np
import pytest

from cache.verification.verifier import Verifier


class TableVectors:
    """Word vectors from a fixed table (unknown words are orthogonal to everything)."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = {k: np.asarray(v, dtype=np.float32) / np.linalg.norm(v) for k, v in table.items()}
        self.calls = 0

    async def __call__(self, words) -> np.ndarray:
        self.calls += 1
        out = []
        for i, word in enumerate(words):
            vec = self.table.get(word)
            if vec is None:
                vec = np.zeros(8, dtype=np.float32)
                vec[i % 8] = 1.0  # texts and unknown words: distinct unit vectors
            out.append(vec)
        return np.vstack(out)


async def test_alignment_refuses_an_added_or_swapped_content_word() -> None:
    verifier = Verifier(None)
    assert not (
        await verifier.verify("What's covered under the warranty?", "What's covered under the extended warranty?")
    ).ok
    assert not (await verifier.verify("How do I change my delivery address?", "How do I change my billing address?")).ok
    assert not (
        await verifier.verify("How much holiday do full-time staff get?", "How much holiday do part-time staff get?")
    ).ok


async def test_alignment_accepts_listed_synonyms_and_fillers_without_a_model() -> None:
    verifier = Verifier(None)
    assert (
        await verifier.verify(
            "How do I update my online banking password?", "How do I change my online banking password?"
        )
    ).ok
    assert (
        await verifier.verify("How do I bleed a radiator?", "Sorry, silly question, but how do I bleed a radiator?")
    ).ok


async def test_alignment_uses_word_vectors_above_the_bar_only() -> None:
    vectors = TableVectors(
        {
            "baggage": [1, 0.1, 0, 0, 0, 0, 0, 0],
            "luggage": [1, 0.2, 0, 0, 0, 0, 0, 0],
            "blue": [1, 1, 0, 0, 0, 0, 0, 0],
            "red": [1, 0, 1, 0, 0, 0, 0, 0],
        }
    )
    verifier = Verifier(vectors, word_threshold=0.75, max_dispensable=0)
    assert (await verifier.verify("What is the baggage allowance?", "What is the luggage allowance?")).ok
    # cos(blue, red) = 0.5: below the bar, so the swapped colour is refused.
    assert not (await verifier.verify("What does the blue light mean?", "What does the red light mean?")).ok
    calls = vectors.calls
    await verifier.verify("What is the baggage allowance?", "What is the luggage allowance?")
    assert vectors.calls == calls  # word vectors are cached


# ------------------------------------------------------------------------------------------ reworded questions

# Word vectors under which none of these words align (all pairwise cosines 0), so only the new rules decide.
REWORDED = (
    "What does the red warning light on my dashboard mean?",
    "There's a red light on my dashboard, what is it telling me?",
)


async def test_reworded_question_is_judged_by_sentence_similarity() -> None:
    verifier = Verifier(TableVectors({}), reworded_threshold=0.81)
    assert (await verifier.verify(*REWORDED, similarity=0.90)).ok
    below = await verifier.verify(*REWORDED, similarity=0.80)
    assert not below.ok
    assert below.reason == "unaligned"
    assert not (await verifier.verify(*REWORDED)).ok  # no similarity given: strict alignment only


async def test_near_copy_with_a_changed_or_added_word_gets_no_tolerance() -> None:
    verifier = Verifier(TableVectors({}), reworded_threshold=0.81)
    # Added modifier: most of the wording is shared, so the extra word is the point of the question.
    assert not (
        await verifier.verify(
            "What's covered under the warranty?", "What's covered under the extended warranty?", similarity=0.99
        )
    ).ok
    assert not (
        await verifier.verify(
            "What documents do I need to travel to France?",
            "What documents does my child need to travel to France?",
            similarity=0.99,
        )
    ).ok


@pytest.mark.parametrize(
    ("query", "candidate"),
    [
        ("What does my home insurance cover?", "What's covered by my car insurance?"),
        ("Does my contents insurance cover my laptop at home?", "Is my laptop abroad covered by contents insurance?"),
        ("How do I add money to my ISA?", "What's the way to take money out of my ISA?"),
        ("What's the baggage allowance for economy passengers?", "How much bag allowance do business passengers get?"),
    ],
)
async def test_slot_swap_is_refused_even_when_reworded(query: str, candidate: str) -> None:
    verifier = Verifier(TableVectors({}), reworded_threshold=0.81)
    verdict = await verifier.verify(query, candidate, similarity=0.99)
    assert not verdict.ok
    assert verdict.reason == "swap"


async def test_reworded_question_with_mostly_unaligned_words_is_refused() -> None:
    verifier = Verifier(TableVectors({}), reworded_threshold=0.81, max_unaligned_share=0.5)
    verdict = await verifier.verify(
        "What are the signs that my boiler is working properly?",
        "How can I tell my boiler has developed a fault?",
        similarity=0.99,
    )
    assert not verdict.ok


async def test_misspelt_day_aligns_as_a_date() -> None:
    assert (
        await Verifier(None).verify(
            "What time does the leisure centre open on Mondays?", "What time does the leisure center open on Mondys?"
        )
    ).ok
