"""Exceptions raised by reflexion_graph, all under :class:`ReflexionGraphError`."""

from __future__ import annotations


class ReflexionGraphError(Exception):
    """Base class of every error this library raises on purpose."""


class ConfigurationError(ReflexionGraphError, ValueError):
    """An argument, setting or task specification is invalid."""


class InvalidTaskError(ConfigurationError):
    """A task is empty or malformed."""


class ModelUnavailableError(ReflexionGraphError):
    """The chat model cannot be started or reached."""


class MemoryBackendError(ReflexionGraphError):
    """The reflection memory's storage cannot be opened, reached or written."""
