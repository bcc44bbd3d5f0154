"""Reflectors: the in-run reflector and the hindsight writer of cross-task lessons."""

from reflexion_graph.reflectors._hindsight import BaseLessonWriter, HindsightWriter
from reflexion_graph.reflectors._llm import BaseReflector, LLMReflector

__all__ = ["BaseLessonWriter", "BaseReflector", "HindsightWriter", "LLMReflector"]
