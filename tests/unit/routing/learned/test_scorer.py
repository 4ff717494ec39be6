"""LearnedScorer and WorkspaceScorers on synthetic vectors: no model, no Redis, well under a second."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from numpy.typing import NDArray

from routing.learned.features import N_FEATURES, text_features
from routing.learned.scorer import LearnedScorer, ScorerConfig, WorkspaceScorers

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
        scorer.record(v, "economy", good=False)
        scorer.record(v, "premium", good=True)
    for v in around(easy, rng, 30):
        scorer.record(v, "economy", good=True)
        scorer.record(v, "premium", good=True)
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
        scorer.record(v, "economy", good=False)
        scorer.record(v, "premium", good=False)
    assert abs(scorer.score(unit(hard))) < 0.1
    assert not scorer.should_escalate(unit(hard), "economy")


def test_not_active_below_the_vote_threshold(rng: np.random.Generator, centres: tuple) -> None:
    hard, _ = centres
    scorer = LearnedScorer(ScorerConfig(min_votes=50, k=5))
    for v in around(hard, rng, 49):
        scorer.record(v, "economy", good=False)
    assert not scorer.active
    assert not scorer.should_escalate(unit(hard), "economy")
    scorer.record(unit(hard), "economy", good=False)
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
        scorer.record(unit(centres[0]), "platinum", good=True)
    with pytest.raises(ValueError, match="16-d"):
        scorer.score(np.ones(DIM + 1, dtype=np.float32))


def test_state_round_trip_gives_identical_scores(rng: np.random.Generator, centres: tuple) -> None:
    config = ScorerConfig(min_votes=10, k=7, threshold=0.3)
    scorer = trained(rng, centres, config)
    probes = np.stack(around(centres[0], rng, 3) + around(centres[1], rng, 3))
    texts = ["How many apples are left?", "", "x" * 300, "Which is not true?", "42 + 17 = ?", "hi"]
    expected = scorer.score_many(probes, texts=texts)

    state = scorer.to_state()
    assert all(isinstance(v, bytes) for v in state.values())
    from_hash = LearnedScorer.from_state({k.encode(): v for k, v in state.items()})  # as redis-py returns it
    from_blob = LearnedScorer.from_bytes(scorer.to_bytes())
    for restored in (from_hash, from_blob):
        assert restored.config == config
        assert restored.n_votes == scorer.n_votes
        np.testing.assert_allclose(restored.score_many(probes, texts=texts), expected)


def test_workspaces_are_isolated(rng: np.random.Generator, centres: tuple) -> None:
    hard, _ = centres
    scorers = WorkspaceScorers(ScorerConfig(min_votes=20, k=5))
    for v in around(hard, rng, 20):
        scorers.record("T_BAD", v, "economy", good=False)
        scorers.record("T_GOOD", v, "economy", good=True)
    for v in around(hard, rng, 5):
        scorers.record("T_NEW", v, "economy", good=False)

    bad, good = scorers.score("T_BAD", unit(hard)), scorers.score("T_GOOD", unit(hard))
    assert bad is not None and good is not None and bad > good
    assert scorers.should_escalate("T_BAD", unit(hard), "economy")
    assert not scorers.should_escalate("T_GOOD", unit(hard), "economy")
    assert scorers.score("T_NEW", unit(hard)) is None  # 5 votes: still on the rules
    assert scorers.score("T_NEVER_SEEN", unit(hard)) is None
    assert scorers.scorer("T_GOOD").n_votes == 20

    moved = WorkspaceScorers(scorers.config)
    moved.load_state("T_BAD", scorers.to_state("T_BAD"))
    assert moved.score("T_BAD", unit(hard)) == pytest.approx(bad)
    assert moved.score("T_GOOD", unit(hard)) is None


def test_oldest_votes_are_forgotten(rng: np.random.Generator, centres: tuple) -> None:
    hard, _ = centres
    scorer = LearnedScorer(ScorerConfig(min_votes=0, k=10, max_votes=40, knn_weight=1.0))
    for v in around(hard, rng, 40):
        scorer.record(v, "economy", good=False)
    for v in around(hard, rng, 40):
        scorer.record(v, "economy", good=True)
    assert scorer.n_votes == 40
    assert scorer.score(unit(hard)) < 0.0  # only the 👍 votes remain, below the unrated top tier's prior


def test_calibrated_threshold_escalates_the_requested_share(rng: np.random.Generator, centres: tuple) -> None:
    scorer = trained(rng, centres)
    probes = np.stack(around(centres[0], rng, 10) + around(centres[1], rng, 30))
    threshold = scorer.calibrate_threshold(probes, 0.25)
    escalated = sum(scorer.should_escalate(v, "economy", threshold=threshold) for v in probes)
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
    for i in range(40):
        hard = i % 2 == 0
        text = f"scenario zebra giraffe item {i}" if hard else f"plain question about item {i}"
        scorer.record(same, "economy", good=not hard, text=text)
        scorer.record(same, "premium", good=True, text=text)
    hard_score = scorer.score(same, text="scenario zebra giraffe item 99")
    easy_score = scorer.score(same, text="plain question about item 99")
    assert hard_score > easy_score + 0.3
    blind = LearnedScorer(ScorerConfig(min_votes=0, knn_weight=0.0, ridge_alpha=1.0, word_scale=0.0))
    blind.record_many(
        np.stack([same] * len(scorer._tiers)),
        [config.tiers[t] for t in scorer._tiers],
        ~scorer._bad,
        texts=[""] * len(scorer._tiers),
    )
    assert abs(blind.score(same, text="scenario zebra giraffe") - blind.score(same, text="plain question")) < 0.05


def test_version_one_state_loads_without_words(rng: np.random.Generator, centres: tuple) -> None:
    """States written before the hashed words existed still load (no words: the ridge sees empty bags)."""
    scorer = trained(rng, centres)
    state = scorer.to_state()
    state["version"] = b"1"
    del state["words"]
    config = json.loads(state["config"])
    for key in ("word_buckets", "word_scale"):
        config.pop(key)
    state["config"] = json.dumps(config).encode()
    old = LearnedScorer.from_state(state)
    assert old.n_votes == scorer.n_votes
    probe = unit(centres[0])
    assert old.score(probe) == pytest.approx(scorer.score(probe))  # no text: identical designs
    with pytest.raises(ValueError, match="version"):
        LearnedScorer.from_state({**state, "version": b"99"})


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
