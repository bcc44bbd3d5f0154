"""The chat model: the embedded default from a small catalogue, or an OpenAI-compatible endpoint."""

import warnings

from reflexion_graph.models._catalogue import (
    CATALOGUE,
    DEFAULT_MODEL,
    CatalogueModel,
    cache_dir,
    catalogue_model,
    model_path,
)
from reflexion_graph.models._server import EmbeddedServer
from reflexion_graph.models._settings import (
    ModelSettings,
    create_chat_model,
    model_id,
    start_embedded_server,
)

_MOVED = {
    "check_endpoint": "reflexion_graph.models._settings",
    "ensure_server": "reflexion_graph.models._server",
}
"""Server plumbing this package exported before; still importable, with a warning."""


def __getattr__(name: str) -> object:
    if name in _MOVED:
        import importlib

        warnings.warn(
            f"reflexion_graph.models.{name} is internal and no longer exported; "
            "start a model with start_embedded_server() or create_chat_model()",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module 'reflexion_graph.models' has no attribute {name!r}")


__all__ = [
    "CATALOGUE",
    "DEFAULT_MODEL",
    "CatalogueModel",
    "EmbeddedServer",
    "ModelSettings",
    "cache_dir",
    "catalogue_model",
    "create_chat_model",
    "model_id",
    "model_path",
    "start_embedded_server",
]
