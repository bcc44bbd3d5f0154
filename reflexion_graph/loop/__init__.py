"""The loop below both adapters: the rules of a run, its settings, evidence and hindsight.

The graph's nodes (``reflexion_graph.graph``) and the agent middleware
(``reflexion_graph.middleware``) both run a Reflexion loop by these rules; neither imports the
other, and nothing here imports either. ``ReflexionContext`` holds the per-run settings;
``_policy`` what a run recalls, how an attempt is recorded, when it stops, what it remembers
and how recalled lessons are credited; ``_evidence`` the lessons kept from a run's failed
checks and verified changes; ``_hindsight`` the rule written from a contrast and replayed.
"""

from reflexion_graph.loop._hindsight import Hindsight
from reflexion_graph.loop._settings import (
    ReflexionContext,
    RememberPolicy,
    RetryContext,
    StopReason,
)

__all__ = ["Hindsight", "ReflexionContext", "RememberPolicy", "RetryContext", "StopReason"]
