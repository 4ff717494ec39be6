"""The embedder: ONNX serves PyTorch's vectors, the export is made once, and PyTorch takes over if it fails."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cache.embedder import Embedder, TorchEncoder, packaged_model_dir
from cache.onnx_encoder import ExportError, export_path

pytestmark = pytest.mark.slow
REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def onnx_embedder(onnx_dir: Path) -> Iterator[Embedder]:
    embedder = Embedder(onnx_dir=onnx_dir)
    embedder.embed("warm up")  # exports into onnx_dir on first use
    yield embedder
    embedder.close()


@pytest.fixture(scope="module")
def reference() -> TorchEncoder:
    """Plain sentence-transformers on PyTorch: the vectors every stored entry was made with."""
    return TorchEncoder(packaged_model_dir())


def dev_questions(eval_dir: Path) -> list[str]:
    questions: set[str] = set()
    with (eval_dir / "cache" / "fow_pairs.jsonl").open() as fh:
        for line in fh:
            row = json.loads(line)
            questions |= {row["a"], row["b"]}
    return sorted(questions)


def test_onnx_vectors_agree_with_pytorch_on_the_dev_questions(
    onnx_embedder: Embedder, reference: TorchEncoder, eval_dir: Path
) -> None:
    assert onnx_embedder.backend == "onnx"
    questions = dev_questions(eval_dir)
    onnx = onnx_embedder.embed_many(questions)  # batched: padded to the longest question of each batch
    torch = reference.model.encode(questions, normalize_embeddings=True, convert_to_numpy=True)
    agreement = np.sum(onnx * torch, axis=1)
    assert len(questions) > 1000
    assert float(agreement.min()) >= 0.99, questions[int(agreement.argmin())]
    one = onnx_embedder.embed(questions[0])  # the request path: one question, no padding
    assert float(one @ torch[0]) >= 0.99
    assert one.dtype == np.float32 and abs(float(np.linalg.norm(one)) - 1.0) < 1e-4


def test_the_export_is_made_once_and_later_starts_need_no_torch(onnx_embedder: Embedder, onnx_dir: Path) -> None:
    exported = export_path(packaged_model_dir(), onnx_dir)
    assert exported.exists() and exported.with_suffix(".probes.npy").exists()
    stamp = exported.stat().st_mtime_ns
    script = (
        "import sys; from pathlib import Path; from cache.embedder import Embedder; "
        f"e = Embedder(onnx_dir=Path({str(onnx_dir)!r})); e.embed('hello'); "
        "print(e.backend, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["onnx", "False"]
    assert exported.stat().st_mtime_ns == stamp, "the export is reused, not made again"


def test_a_damaged_export_is_made_again(tmp_path: Path) -> None:
    exported = export_path(packaged_model_dir(), tmp_path)
    exported.write_bytes(b"not an onnx file")
    np.save(exported.with_suffix(".probes.npy"), np.zeros((4, 384), dtype=np.float32))
    embedder = Embedder(onnx_dir=tmp_path)
    embedder.embed("How do I reset my VPN token?")
    assert embedder.backend == "onnx" and exported.stat().st_size > 1_000_000
    embedder.close()


def test_without_a_usable_export_pytorch_serves_and_onnx_only_mode_fails(tmp_path: Path) -> None:
    blocked = tmp_path / "models"
    blocked.write_text("a file where the export directory should be")
    fallback = Embedder(onnx_dir=blocked)
    vector = fallback.embed("How do I reset my VPN token?")
    assert fallback.backend == "torch" and vector.shape == (384,)
    fallback.close()
    with pytest.raises(OSError):
        Embedder(onnx_dir=blocked, backend="onnx").embed("x")


def test_a_model_of_another_layout_is_not_exported(tmp_path: Path) -> None:
    from cache.onnx_encoder import model_settings

    (tmp_path / "modules.json").write_text(json.dumps([{"type": "sentence_transformers.models.Transformer"}]))
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    (tmp_path / "sentence_bert_config.json").write_text("{}")
    with pytest.raises(ExportError):
        model_settings(tmp_path)
