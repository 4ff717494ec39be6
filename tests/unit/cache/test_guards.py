"""Verification guards: each one must refuse its trap and let the harmless variation through."""

from __future__ import annotations

import numpy as np
import pytest

from cache.guards import Verifier, features, is_typo_of, text_guards

# ------------------------------------------------------------------------------------------ text guards

REFUSED = [
    ("Cancel my subscription", "Don't cancel my subscription", "negation"),
    ("Which items can be recycled?", "Which items can't be recycled?", "negation"),
    ("Is the deposit refundable?", "Is the deposit non-refundable?", "negation"),
    ("Is ibuprofen safe with alcohol?", "Is ibuprofen unsafe with alcohol?", "negation"),
    ("How do I mute the channel?", "How do I unmute the channel?", "negation"),
    ("Is the office open on Fridays?", "Is the office closed on Fridays?", "antonym"),
    ("How do I add a user to the workspace?", "How do I remove a user from the workspace?", "antonym"),
    ("Which features are included in the free tier?", "Which features are excluded from the free tier?", "antonym"),
    ("How do I increase the quota?", "How do I decrease the quota?", "antonym"),
    ("Can I return it after 14 days?", "Can I return it after 40 days?", "number"),
    ("Is the 9:15 train on time?", "Is the 9:45 train on time?", "number"),
    ("What's 15% of 200?", "What's 50% of 200?", "number"),
    ("How much is the Pro plan for 5 users?", "How much is the Pro plan for 50 users?", "number"),
    ("Is there a call-out at 2pm?", "Is there a call-out at 2am?", "number"),
    ("Are you open on Saturday?", "Are you open on Sunday?", "number"),
    ("What was the bill in January?", "What was the bill in June?", "number"),
    ("What's the stamp duty on a £250,000 house?", "What's the stamp duty on a £600,000 house?", "number"),
    ("Does the Pixel support wireless charging?", "Does the Kindle support wireless charging?", "entity"),
    ("Who approved PR 1432?", "Who approved PR 1433?", "number"),
    ("What's the status of JIRA-112?", "What's the status of JIRA-113?", "entity"),
    ("What did <@U123> decide?", "What did <@U456> decide?", "entity"),
    ("How do I migrate from MySQL to Postgres?", "How do I migrate from Postgres to MySQL?", "direction"),
    ("Can I cancel within the trial period?", "Can I cancel after the trial period?", "relation"),
    ("When is the deploy window?", "Where is the deploy window?", "question_word"),
    ("What documents does she need?", "What documents do I need?", "person"),
]


@pytest.mark.parametrize(("query", "candidate", "reason"), REFUSED)
def test_text_guards_refuse_traps(query: str, candidate: str, reason: str) -> None:
    verdict = text_guards(query, candidate)
    assert not verdict.ok
    assert verdict.reason == reason
    assert not text_guards(candidate, query).ok  # symmetric


PASSED = [
    ("How do I change the email address on my account?", "How do I chnage the email adress on my acount?"),
    ("What are your delivery options to Northern Ireland?", "WHAT ARE YOUR DELIVERY OPTIONS TO NORTHERN IRELAND?"),
    ("I can't log in to my online banking", "I cannot log in to my online banking"),
    ("Can I return it after 14 days?", "Can I still send it back after two weeks?"),
    ("What's the interest rate on a 2-year fix?", "What's the interest rate on a two-year fix?"),
    ("How do I claim a refund for a delayed train?", "For a delayed train, how do I claim a refund?"),
    ("What time does check-in close?", "When does check-in close?"),
]


@pytest.mark.parametrize(("query", "candidate"), PASSED)
def test_text_guards_let_harmless_variation_through(query: str, candidate: str) -> None:
    assert text_guards(query, candidate).ok


def test_typos_but_not_different_words() -> None:
    assert is_typo_of("electricity", "electricty")
    assert is_typo_of("prescription", "perscription")
    assert not is_typo_of("austria", "australia")
    assert not is_typo_of("safe", "unsafe")
    assert not is_typo_of("cat", "car")  # too short to call a typo


def test_durations_compare_in_days() -> None:
    assert features("within 14 days").numbers == features("within two weeks").numbers
    assert features("within 14 days").numbers != features("within 3 weeks").numbers


# ------------------------------------------------------------------------------------------ alignment


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


def test_misspelt_day_is_a_date_not_a_name() -> None:
    assert text_guards(
        "What time does the leisure centre open on Mondays?", "What time does the leisure center open on Mondys?"
    ).ok
    assert not text_guards("Is the gym open on Mondys?", "Is the gym open on Fridays?").ok


async def test_misspelt_day_aligns_as_a_date() -> None:
    assert (
        await Verifier(None).verify(
            "What time does the leisure centre open on Mondays?", "What time does the leisure center open on Mondys?"
        )
    ).ok
