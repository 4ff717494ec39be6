"""Verifier: the guards refuse replacements, the learned scorer weighs the rest, at its shipped operating point."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from cache.verification.pair_features import FEATURE_NAMES, pair_features, rarity
from cache.verification.scorer import MODEL_RESOURCE, ModelFileError, PairScorer
from cache.verification.verifier import Verifier


def test_the_packaged_model_loads_and_matches_the_features() -> None:
    scorer = PairScorer.packaged()
    assert len(scorer.coef) == len(FEATURE_NAMES)
    assert 0.0 < scorer.threshold < 1.0
    data = json.loads(resources.files("cache.verification").joinpath(MODEL_RESOURCE).read_text())
    assert "qqp_dev.csv" in data["trained_on"] and "cross_validated" in data, "the file says how it was made"


def test_a_model_file_for_other_features_is_refused() -> None:
    data = json.loads(resources.files("cache.verification").joinpath(MODEL_RESOURCE).read_text())
    data["features"] = [*data["features"][1:], data["features"][0]]
    with pytest.raises(ModelFileError):
        PairScorer.from_dict(data)


def test_guards_refuse_before_the_scorer_runs() -> None:
    verifier = Verifier()
    verdict = verifier.verify("Is the clinic closed on Sundays?", "Is the clinic open on Sundays?", 0.97)
    assert not verdict.ok and verdict.reason == "antonym" and verdict.score == 0.0
    assert verifier.verify("Can I return it after 40 days?", "Can I return it after 14 days?", 0.98).reason == "number"
    assert (
        verifier.verify(
            "Which painkillers should I avoid while pregnant?", "Which painkillers can I take?", 0.95
        ).reason
        == "negation"
    )


def test_a_near_copy_passes_and_a_distant_pair_does_not() -> None:
    verifier = Verifier()
    near = verifier.verify("How do I reset my VPN password?", "How can I reset my VPN password?", 0.97)
    assert near.ok and near.reason == "ok" and near.score >= verifier.threshold
    # Close in the embedding (MiniLM cosine 0.92), yet one asks about a place the other leaves out.
    narrower = verifier.verify(
        "How much is a firefighters pension in California?", "How much is a firefighters pension?", 0.92
    )
    assert not narrower.ok and narrower.reason == "scorer" and 0.0 < narrower.score < verifier.threshold


def test_below_the_minimum_cosine_nothing_is_served() -> None:
    scorer = PairScorer.packaged()
    verifier = Verifier(scorer)
    verdict = verifier.verify(
        "How do I reset my VPN password?", "How do I reset my VPN password?", scorer.min_cosine - 0.01
    )
    assert not verdict.ok and verdict.score == 0.0


def test_the_score_rises_with_the_cosine_and_the_threshold_can_be_overridden() -> None:
    scorer = PairScorer.packaged()
    a, b = "What is the baggage allowance for economy?", "What's the luggage allowance in economy?"
    low, high = (scorer.probability(pair_features(a, b, c)) for c in (0.86, 0.97))
    assert high > low
    assert Verifier(scorer, threshold=0.0).verify(a, b, 0.86).ok
    assert not Verifier(scorer, threshold=1.0).verify(a, b, 0.97).ok


def test_pair_features_are_symmetric_and_rarity_follows_word_frequency() -> None:
    pairs = [
        ("How do I add subtitles in Video?", "How do I add subtitles to a movie?"),
        ("Who was Winston Churchill?", "Who was Churchill?"),
        ("Why is petroleum engineering hard?", "How hard is petroleum engineering?"),
    ]
    for a, b in pairs:
        assert pair_features(a, b, 0.9) == pair_features(b, a, 0.9)
    assert rarity("the") > rarity("insurance") > rarity("weimaraner")


def test_the_model_file_is_packaged() -> None:
    """An installed Penny (the Docker image runs ``pip install .``) must carry the weights."""
    import fnmatch
    import tomllib
    from pathlib import Path

    from setuptools import find_packages

    root = Path(__file__).resolve().parents[4]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "cache.verification" in find_packages(str(root), include=config["packages"]["find"]["include"])
    patterns = config["package-data"]["cache"]
    assert any(fnmatch.fnmatch(f"verification/{MODEL_RESOURCE}", pattern) for pattern in patterns)


def test_the_same_question_word_for_word_is_served_without_scoring() -> None:
    """A short identical question scored below the threshold (0.835 for "New question?"): it must still be served."""
    verifier = Verifier(threshold=1.0)  # the scorer alone could serve nothing
    assert verifier.verify("New question?", "new  question?", 1.0).ok
    assert not verifier.verify("New question?", "Old question?", 0.99).ok
