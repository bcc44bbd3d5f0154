"""Evaluators: the source of the learning signal."""

from reflexion_graph.evaluators._answer import ExactMatchEvaluator, RegexEvaluator
from reflexion_graph.evaluators._base import (
    BaseEvaluator,
    CallableEvaluator,
    EvaluatorFunction,
    as_evaluator,
)
from reflexion_graph.evaluators._code import CodeTestEvaluator
from reflexion_graph.evaluators._sandbox import SandboxLimits

__all__ = [
    "BaseEvaluator",
    "CallableEvaluator",
    "CodeTestEvaluator",
    "EvaluatorFunction",
    "ExactMatchEvaluator",
    "RegexEvaluator",
    "SandboxLimits",
    "as_evaluator",
]
