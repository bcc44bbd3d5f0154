"""The code evaluator: unit tests run against an answer's code, the verdict decided outside it.

``CodeTestEvaluator`` takes the code the tests use from the answer (``_answer_code``), plans
the tests (``_test_plan``), runs the answer in the sandbox and the tests in a trusted process of
their own, relaying each call between them as plain data (``_verdict_channel``), and asks the
findings for a change that makes a failed answer pass every test. ``SelfTestEvaluator`` judges
with tests the model writes itself. The two processes' scripts are in ``stdlib_scripts``.
"""

from reflexion_graph.evaluators.code._evaluator import CodeTestEvaluator
from reflexion_graph.evaluators.code._self_tests import SelfTestEvaluator

__all__ = ["CodeTestEvaluator", "SelfTestEvaluator"]
