"""Evaluators: the source of the learning signal."""

from reflexion_graph.evaluators._answer import ExactMatchEvaluator, RegexEvaluator
from reflexion_graph.evaluators._base import (
    BaseEvaluator,
    CallableEvaluator,
    EvaluatorFunction,
    as_evaluator,
    to_evaluation,
)
from reflexion_graph.evaluators._checkers import (
    CountdownEvaluator,
    FunctionCallEvaluator,
    JSONSchemaEvaluator,
)
from reflexion_graph.evaluators._composite import AllOf, Weighted
from reflexion_graph.evaluators._human import HumanEvaluator
from reflexion_graph.evaluators._judges import DEFAULT_ASPECTS, LLMJudge, RubricJudge
from reflexion_graph.evaluators.code import CodeTestEvaluator, SelfTestEvaluator
from reflexion_graph.sandbox import SandboxLimits, probe_isolation

__all__ = [
    "DEFAULT_ASPECTS",
    "AllOf",
    "BaseEvaluator",
    "CallableEvaluator",
    "CodeTestEvaluator",
    "CountdownEvaluator",
    "EvaluatorFunction",
    "ExactMatchEvaluator",
    "FunctionCallEvaluator",
    "HumanEvaluator",
    "JSONSchemaEvaluator",
    "LLMJudge",
    "RegexEvaluator",
    "RubricJudge",
    "SandboxLimits",
    "SelfTestEvaluator",
    "Weighted",
    "as_evaluator",
    "probe_isolation",
    "to_evaluation",
]
