"""LearnedScorer and WorkspaceScorers on synthetic vectors: no model, no Redis, well under a second."""

from __future__ import annotations

import struct
import sys
from dataclasses import replace

import numpy as np
import pytest
from numpy.typing import NDArray

from routing.learned.config import ScorerConfig
from routing.learned.features import N_FEATURES, text_features
from routing.learned.scorer import LearnedScorer
from routing.learned.signatures import prompt_signature
from routing.learned.workspaces import WorkspaceScorers
from tests.unit.routing.learned.conftest import record

DIM = 16


def unit(v: NDArray[np.float64]) -> NDArray[np.float32]:
    return (v / np.linalg.norm(v)).astype(np.float32)


def around(centre: NDArray[np.float32], rng: np.random.Generator, n: int, spread: float = 0.1) -> list:
    return [unit(centre + spread * rng.standard_normal(DIM)) for _ in range(n)]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def centres(rng: np.random.Generator) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Two well separated topics: 'hard' (cheap tier rated 👎) and 'easy' (cheap tier rated 👍)."""
    hard = unit(rng.standard_normal(DIM))
    easy = unit(rng.standard_normal(DIM) - 2 * hard)
    return hard, easy


def trained(rng: np.random.Generator, centres: tuple, config: ScorerConfig | None = None) -> LearnedScorer:
    hard, easy = centres
    scorer = LearnedScorer(config or ScorerConfig(min_votes=50, k=10, threshold=0.3))
    for v in around(hard, rng, 30):
        record(scorer, v, "economy", good=False)
        record(scorer, v, "premium", good=True)
    for v in around(easy, rng, 30):
        record(scorer, v, "economy", good=True)
        record(scorer, v, "premium", good=True)
    return scorer


def test_prompts_near_badly_rated_ones_score_higher(rng: np.random.Generator, centres: tuple) -> None:
    scorer = trained(rng, centres)
    hard, easy = centres
    hard_scores = [scorer.score(v) for v in around(hard, rng, 10)]
    easy_scores = [scorer.score(v) for v in around(easy, rng, 10)]
    assert min(hard_scores) > max(easy_scores)
    assert min(hard_scores) > 0.5 and max(easy_scores) < 0.2
    assert all(scorer.should_escalate(v, "economy") for v in around(hard, rng, 5))
    assert not any(scorer.should_escalate(v, "economy") for v in around(easy, rng, 5))


def test_no_gain_when_the_stronger_tier_fails_too(rng: np.random.Generator, centres: tuple) -> None:
    """Scoring the gain, not just P(bad): escalating what every tier gets wrong only costs money."""
    hard, _ = centres
    scorer = LearnedScorer(ScorerConfig(min_votes=0, k=10, threshold=0.3))
    for v in around(hard, rng, 30):
        record(scorer, v, "economy", good=False)
        record(scorer, v, "premium", good=False)
    assert abs(scorer.score(unit(hard))) < 0.1
    assert not scorer.should_escalate(unit(hard), "economy")


def test_not_active_below_the_vote_threshold(rng: np.random.Generator, centres: tuple) -> None:
    hard, _ = centres
    scorer = LearnedScorer(ScorerConfig(min_votes=50, k=5))
    for v in around(hard, rng, 49):
        record(scorer, v, "economy", good=False)
    assert not scorer.active
    assert not scorer.should_escalate(unit(hard), "economy")
    record(scorer, unit(hard), "economy", good=False)
    assert scorer.active and scorer.n_votes == 50
    assert scorer.should_escalate(unit(hard), "economy")


def test_top_tier_never_escalates(rng: np.random.Generator, centres: tuple) -> None:
    scorer = trained(rng, centres)
    hard, _ = centres
    assert scorer.score(unit(hard), tier="premium") == 0.0
    assert not scorer.should_escalate(unit(hard), "premium")


def test_unknown_tier_and_wrong_dimension_are_rejected(rng: np.random.Generator, centres: tuple) -> None:
    scorer = trained(rng, centres)
    with pytest.raises(ValueError, match="unknown tier"):
        scorer.should_escalate(unit(centres[0]), "platinum")
    with pytest.raises(ValueError, match="16-d"):
        scorer.score(np.ones(DIM + 1, dtype=np.float32))
    # Votes are replayed in bulk from the feedback log, where one unusable vote must not stop the rest: skipped.
    signature = prompt_signature(unit(centres[0]), "", scorer.config.word_buckets)
    assert scorer.record_signatures([(signature, "platinum", True)]) == 0
    assert scorer.n_votes == 120


def test_a_scorer_rebuilt_from_the_same_votes_gives_identical_scores(rng: np.random.Generator, centres: tuple) -> None:
    """What survives a restart is the feedback log, not the scorer: a replica that replays the log in one batch
    (``ScorerSync.rebuild``) must score exactly like one that took the same votes as they came."""
    config = ScorerConfig(min_votes=10, k=7, threshold=0.3)
    texts = ["How many apples are left?", "", "x" * 300, "Which is not true?", "42 + 17 = ?", "hi"]
    votes = [
        (prompt_signature(v, texts[i % len(texts)], config.word_buckets), tier, good)
        for i, v in enumerate(around(centres[0], rng, 30) + around(centres[1], rng, 30))
        for tier, good in (("economy", i >= 30), ("premium", True))
    ]
    one_by_one = LearnedScorer(config)
    for signature, tier, good in votes:
        assert one_by_one.record_signatures([(signature, tier, good)]) == 1
    probes = np.stack(around(centres[0], rng, 3) + around(centres[1], rng, 3))
    expected = one_by_one.score_many(probes, texts=texts)

    rebuilt = LearnedScorer(config)
    assert rebuilt.record_signatures(votes) == len(votes)
    assert rebuilt.config == config
    assert rebuilt.n_votes == one_by_one.n_votes
    np.testing.assert_allclose(rebuilt.score_many(probes, texts=texts), expected)


def test_workspaces_are_isolated(rng: np.random.Generator, centres: tuple) -> None:
    hard, _ = centres
    scorers = WorkspaceScorers(ScorerConfig(min_votes=20, k=5))
    bad_votes = []
    for v in around(hard, rng, 20):
        bad_votes.append((scorers.signature(v, ""), "economy", False))
        record(scorers.scorer("T_BAD"), v, "economy", good=False)
        record(scorers.scorer("T_GOOD"), v, "economy", good=True)
    for v in around(hard, rng, 5):
        record(scorers.scorer("T_NEW"), v, "economy", good=False)

    bad, good = scorers.scorer("T_BAD").score(unit(hard)), scorers.scorer("T_GOOD").score(unit(hard))
    assert bad > good
    assert scorers.should_escalate("T_BAD", unit(hard), "economy")
    assert not scorers.should_escalate("T_GOOD", unit(hard), "economy")
    new = scorers.scorer("T_NEW")  # 5 votes: still on the rules, however bad they look
    assert not new.active and new.score(unit(hard)) > new.config.threshold
    assert not scorers.should_escalate("T_NEW", unit(hard), "economy")
    assert not scorers.should_escalate("T_NEVER_SEEN", unit(hard), "economy")
    assert scorers.scorer("T_GOOD").n_votes == 20

    moved = WorkspaceScorers(scorers.config)  # another replica, rebuilding one team from its log
    rebuilt = LearnedScorer(moved.config)
    assert rebuilt.record_signatures(bad_votes) == 20
    moved.install("T_BAD", rebuilt)
    assert moved.scorer("T_BAD").score(unit(hard)) == pytest.approx(bad)
    assert moved.should_escalate("T_BAD", unit(hard), "economy")
    assert not moved.should_escalate("T_GOOD", unit(hard), "economy")


def test_oldest_votes_are_forgotten(rng: np.random.Generator, centres: tuple) -> None:
    hard, _ = centres
    scorer = LearnedScorer(ScorerConfig(min_votes=0, k=10, max_votes=40, knn_weight=1.0))
    for v in around(hard, rng, 40):
        record(scorer, v, "economy", good=False)
    for v in around(hard, rng, 40):
        record(scorer, v, "economy", good=True)
    assert scorer.n_votes == 40
    assert scorer.score(unit(hard)) < 0.0  # only the 👍 votes remain, below the unrated top tier's prior


def test_a_threshold_at_a_score_quantile_escalates_that_share(rng: np.random.Generator, centres: tuple) -> None:
    """Calibrating ``threshold`` to a target share of escalations: the threshold at that quantile of the scores of
    recent prompts escalates that share of them."""
    probes = np.stack(around(centres[0], rng, 10) + around(centres[1], rng, 30))
    scores = trained(np.random.default_rng(1), centres).score_many(probes)
    threshold = float(np.quantile(scores, 1.0 - 0.25))
    calibrated = trained(np.random.default_rng(1), centres, ScorerConfig(min_votes=50, k=10, threshold=threshold))
    escalated = sum(calibrated.should_escalate(v, "economy") for v in probes)
    assert 8 <= escalated <= 10


def test_text_features_shape_and_signal() -> None:
    plain = text_features("Hello there")
    mathy = text_features("If 3x + 4 = 19, how many apples (x) does she have? 12.5% of $40")
    assert plain.shape == mathy.shape == (N_FEATURES,)
    assert plain.dtype == np.float32
    assert mathy.sum() > plain.sum()


def test_word_buckets_are_stable_packed_and_case_blind() -> None:
    from routing.learned.features import bucket_matrix, word_buckets

    first = word_buckets("Which of the following is NOT a prime?", 64)
    assert first.shape == (8,) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, word_buckets("which OF the following is not a prime", 64))
    assert not word_buckets("", 64).any() and not word_buckets("a ? !", 64).any()  # one-letter words don't count
    rows = bucket_matrix(np.stack([first, word_buckets("", 64)]), 64)
    assert rows.shape == (2, 64)
    assert np.linalg.norm(rows[0]) == pytest.approx(1.0) and not rows[1].any()
    with pytest.raises(ValueError):
        word_buckets("x", 12)


def test_words_separate_prompts_the_embedding_cannot(rng: np.random.Generator) -> None:
    """Same vector, different wording: only the hashed words can tell the hard phrasing from the easy one."""
    same = unit(rng.standard_normal(DIM))
    config = ScorerConfig(min_votes=0, knn_weight=0.0, ridge_alpha=1.0)
    scorer = LearnedScorer(config)
    outcomes = []
    for i in range(40):
        hard = i % 2 == 0
        text = f"scenario zebra giraffe item {i}" if hard else f"plain question about item {i}"
        outcomes += [("economy", not hard), ("premium", True)]
        record(scorer, same, "economy", good=not hard, text=text)
        record(scorer, same, "premium", good=True, text=text)
    hard_score = scorer.score(same, text="scenario zebra giraffe item 99")
    easy_score = scorer.score(same, text="plain question about item 99")
    assert hard_score > easy_score + 0.3
    blind = LearnedScorer(replace(config, word_scale=0.0))
    for tier, good in outcomes:
        record(blind, same, tier, good=good)
    assert abs(blind.score(same, text="scenario zebra giraffe") - blind.score(same, text="plain question")) < 0.05


def test_votes_signed_for_another_configuration_are_skipped_not_misread(
    rng: np.random.Generator, centres: tuple
) -> None:
    """The feedback log outlives configurations: a vote signed for another word-bucket width, vector size or feature
    set (or bytes that are no signature at all) is left out rather than misread, and the votes that fit still count."""
    scorer = trained(rng, centres)
    probe = unit(centres[0])
    before = scorer.score(probe)
    other_width = prompt_signature(probe, "How many?", 64)
    other_dim = prompt_signature(np.ones(DIM + 1, dtype=np.float32), "How many?", scorer.config.word_buckets)
    n_feats, n_words = N_FEATURES - 1, scorer.config.word_buckets // 8
    other_features = struct.pack("<HHH", DIM, n_feats, n_words) + bytes(4 * DIM + 4 * n_feats + n_words)
    misfits = [(sig, "economy", False) for sig in (other_width, other_dim, other_features, b"not a signature")]
    assert scorer.record_signatures(misfits) == 0
    assert scorer.n_votes == 120 and scorer.score(probe) == before
    fits = prompt_signature(probe, "How many?", scorer.config.word_buckets)
    assert scorer.record_signatures([*misfits, (fits, "economy", False)]) == 1
    assert scorer.n_votes == 121


def test_benchmark_split_keeps_repeated_prompts_together_and_drops_seen_ones(tmp_path) -> None:
    """benchmarks/router_quality.py: a verbatim repeat never straddles the split; test prompts seen in training go."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[4] / "benchmarks" / "router_quality.py"
    spec = importlib.util.spec_from_file_location("router_quality", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("router_quality", bench)  # dataclasses resolve annotations through it
    spec.loader.exec_module(bench)

    def write(name: str, prompts: list[str]) -> Path:
        file = tmp_path / name
        lines = ["prompt,weak_correct,strong_correct"] + [f"{p},True,False" for p in prompts]
        file.write_text("\n".join(lines) + "\n")
        return file

    dev = write("dev.csv", [f"q{i % 30}" for i in range(60)])  # every prompt twice
    other = write("other.csv", ["q1", "q2", "fresh"])
    sets = {p: bench.load_router_csv(p, "weak", "strong") for p in (dev, other)}
    vectors = {p: np.zeros((len(d.prompts), 4), dtype=np.float32) for p, d in sets.items()}
    for seed in range(5):
        train, test = bench.split(sets, vectors, [dev], [dev, other], seed, 0.2)
        assert not set(train.prompts) & set(test.prompts)
        assert "fresh" in test.prompts and len(train.prompts) == 48
