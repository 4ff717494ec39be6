"""Question features: typos are one or two edits of the same word, durations compare in days."""

from __future__ import annotations

from cache.verification.features import features, is_typo_of


def test_typos_but_not_different_words() -> None:
    assert is_typo_of("electricity", "electricty")
    assert is_typo_of("prescription", "perscription")
    assert not is_typo_of("austria", "australia")
    assert not is_typo_of("safe", "unsafe")
    assert not is_typo_of("cat", "car")  # too short to call a typo


def test_durations_compare_in_days() -> None:
    assert features("within 14 days").numbers == features("within two weeks").numbers
    assert features("within 14 days").numbers != features("within 3 weeks").numbers
