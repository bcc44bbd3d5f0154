"""The chat model: the embedded default from a small catalogue, or an OpenAI-compatible endpoint."""

from reflexion_graph.models._catalogue import (
    CATALOGUE,
    DEFAULT_MODEL,
    CatalogueModel,
    cache_dir,
    catalogue_model,
    model_path,
)
from reflexion_graph.models._server import EmbeddedServer, ensure_server
from reflexion_graph.models._settings import (
    ModelSettings,
    check_endpoint,
    create_chat_model,
    model_id,
    start_embedded_server,
)

__all__ = [
    "CATALOGUE",
    "DEFAULT_MODEL",
    "CatalogueModel",
    "EmbeddedServer",
    "ModelSettings",
    "cache_dir",
    "catalogue_model",
    "check_endpoint",
    "create_chat_model",
    "ensure_server",
    "model_id",
    "model_path",
    "start_embedded_server",
]
