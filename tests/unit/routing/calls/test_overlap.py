"""Joining a resumed stream to the text already shown without duplicates."""

from __future__ import annotations

from routing.calls.overlap import OverlapJoiner


def join(shown: str, deltas: list[str]) -> str:
    joiner = OverlapJoiner(shown)
    out = "".join(joiner.feed(d) for d in deltas) + joiner.finish()
    return shown + out


def chunks(text: str, size: int = 3) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


FULL = "The launch moved to March because the vendor slipped. Marketing keeps the April campaign."


def test_model_restarts_from_the_beginning() -> None:
    shown = FULL[:37]
    assert join(shown, chunks(FULL)) == FULL


def test_model_repeats_the_last_words() -> None:
    shown = FULL[:40]
    assert join(shown, chunks(FULL[30:])) == FULL


def test_clean_continuation_passes_through() -> None:
    shown = FULL[:40]
    assert join(shown, chunks(FULL[40:])) == FULL


def test_cut_mid_word() -> None:
    shown = "The launch mov"
    assert join(shown, ["moved to March."]) == "The launch moved to March."


def test_short_coincidental_overlap_is_kept() -> None:
    assert join("we agreed on it", [" it works"]) == "we agreed on it it works"


def test_nothing_shown_means_no_buffering() -> None:
    joiner = OverlapJoiner("")
    assert joiner.feed("Hello") == "Hello"


def test_continuation_shorter_than_overlap_candidates() -> None:
    shown = "alpha beta gamma"
    assert join(shown, ["gamma"]) == "alpha beta gamma"
    assert join(shown, [" delta"]) == "alpha beta gamma delta"
