"""``benchmarks/train_verifier.py``: the shipped scorer is what the script makes from the data it names."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from cache.embedder import Embedder
from cache.values import CacheSettings
from cache.verification.scorer import PairScorer
from tests.benchmarks.loading import load_benchmark

MODEL_FILE = Path(__file__).resolve().parents[2] / "cache" / "verification" / "verifier_model.json"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dev(eval_dir: Path) -> tuple[object, object, dict[str, str]]:
    bench = load_benchmark("train_verifier")
    embedder = Embedder()
    yield bench.load_dev(embedder, CacheSettings().similarity_threshold)
    embedder.close()


def test_the_model_names_the_data_it_was_trained_on(eval_dir: Path) -> None:
    model = json.loads(MODEL_FILE.read_text())
    qqp = hashlib.sha256((eval_dir / "cache" / "qqp_dev.csv").read_bytes()).hexdigest()
    fow = hashlib.sha256((eval_dir / "cache" / "fow_pairs.jsonl").read_bytes()).hexdigest()
    assert model["trained_on"] == {"qqp_dev.csv": qqp, "fow_pairs.jsonl (even ids)": fow}
    assert "clinc150" in model["procedure"]["held_out"]


def test_refitting_on_the_named_data_reproduces_the_shipped_weights(dev: tuple[object, object, object]) -> None:
    bench = load_benchmark("train_verifier")
    qqp, fow, _provenance = dev
    refit = bench.fit(*bench.training_rows((qqp, qqp.region), (fow, fow.region)))
    shipped = PairScorer.packaged()
    assert np.allclose(refit.coef, shipped.coef, atol=1e-3)
    assert np.allclose(refit.mean, shipped.mean) and abs(refit.intercept - shipped.intercept) < 1e-3


def test_cross_validation_never_scores_a_pair_with_a_model_that_saw_it(dev: tuple[object, object, object]) -> None:
    bench = load_benchmark("train_verifier")
    qqp, fow, _provenance = dev
    held = [set(map(int, fold)) for fold, _scorer in bench.fold_scorers(qqp, fow, 5, seed=0)]
    assert sum(len(f) for f in held) == len(qqp.pairs) and set.union(*held) == set(range(len(qqp.pairs)))
    assert all(not (a & b) for i, a in enumerate(held) for b in held[i + 1 :])


def test_the_script_runs_end_to_end_without_writing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("train_verifier")
    out = tmp_path / "model.json"
    assert bench.main(["--folds", "2", "--repeats", "1", "--out", str(out), "--dry-run"]) == 0
    assert not out.exists()
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("RESULT train_verifier cv_qqp_precision=")
