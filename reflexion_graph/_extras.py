"""Optional features and the install extra each needs (``pip install 'reflexion-graph[X]'``)."""

from __future__ import annotations

import importlib.util

from reflexion_graph.errors import ConfigurationError


def require_extra(module: str, extra: str, feature: str) -> None:
    """Raise a clear error naming ``extra`` when ``module`` is not installed."""
    if importlib.util.find_spec(module) is None:
        raise ConfigurationError(
            f"{feature} needs the {extra!r} extra: pip install 'reflexion-graph[{extra}]'"
        )
