"""The model proposer: a model writes candidate output changes from the failed checks.

Programming by example: the model is shown what the failed answer returned and what each
check expected, and writes a few expressions over ``result``. It may be wrong, as any proposer
may; the verifier runs each in the sandbox against every check. Nothing it writes runs outside
the sandbox. Opt in: ``CodeTestEvaluator(..., proposers={**PROPOSERS, "model":
ModelProposer(model)})``; it costs one model call per failed answer with values to fit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from reflexion_graph import prompts
from reflexion_graph._parsing import extract_code, message_text
from reflexion_graph.findings._finding import Change
from reflexion_graph.findings._proposers import Evidence

MODEL_COST = 3
"""Where a model's change ranks: after one or two built-in operations of the same fit."""


class ModelProposer:
    """Ask ``model`` for ``count`` expressions over ``result`` that fit every failed check."""

    costly = True
    """Asked only where the built-in proposers told nothing (it calls a model)."""

    def __init__(self, model: BaseChatModel, *, count: int = 3) -> None:
        self.model = model
        self.count = count

    def __call__(self, evidence: Evidence) -> Iterator[Change]:
        """The model's expressions, each a candidate output change."""
        failed = [f for f in evidence.failed if not f.raised]
        if not failed or len(failed) != len(evidence.failed):
            return
        shown = "\n".join(
            prompts.CHANGE_PROPOSER_PAIR.format(
                call=f.call.text, returned=repr(f.actual), expected=repr(f.call.expected)
            )
            for f in failed
        )
        prompt = prompts.CHANGE_PROPOSER_PROMPT.format(
            function=evidence.function, pairs=shown, count=self.count
        )
        reply = message_text(self.model.invoke([HumanMessage(prompt)]).content)
        for expression in dict.fromkeys(_expressions(reply)):
            constants = sum(isinstance(n, ast.Constant) for n in ast.walk(ast.parse(expression)))
            cost = MODEL_COST + constants
            yield Change("output", evidence.function, expression, cost, constants)


def _expressions(reply: str) -> Iterator[str]:
    """Each line of the reply's code that is one expression reading ``result`` (and no more)."""
    for line in (extract_code(reply) or reply).splitlines():
        text = line.strip().removeprefix("return ").strip()
        try:
            node = ast.parse(text, mode="eval")
        except SyntaxError:
            continue
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if text and "result" in names:
            yield text
