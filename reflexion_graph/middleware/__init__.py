"""Reflexion for ``langchain.agents.create_agent``: judge the agent's answer, reflect, retry.

``ReflexionMiddleware`` runs three parts by the loop's rules (``reflexion_graph.loop``), each a
middleware of one concern: recall and inject (``RecallLessonsMiddleware``: the lessons of
similar earlier tasks in the system prompt), judge and retry (``JudgeAndRetryMiddleware``: on
failure, the verdict and a lesson, and another turn) and remember (when the run stops:
hindsight rules replayed before they are stored, evidence, credit for what was recalled).
Needs the ``agents`` extra: ``pip install 'reflexion-graph[agents]'``.
"""

from reflexion_graph.middleware._judge import JudgeAndRetryMiddleware
from reflexion_graph.middleware._middleware import ReflexionMiddleware
from reflexion_graph.middleware._recall import RecallLessonsMiddleware
from reflexion_graph.middleware._state import ReflexionAgentState, ReflexionSummary

__all__ = [
    "JudgeAndRetryMiddleware",
    "RecallLessonsMiddleware",
    "ReflexionAgentState",
    "ReflexionMiddleware",
    "ReflexionSummary",
]
