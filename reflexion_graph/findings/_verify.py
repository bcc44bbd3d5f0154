"""The verifier: the failed answer with a change applied must pass every check of its task.

The change is applied by wrapping the function the checks call, in the answer's own code, so
the changed answer runs where any answer runs (the sandbox) and the task's checks judge it where
they judge any answer (the trusted process). A change is never trusted for what it says.
"""

from __future__ import annotations

import ast
import textwrap

from reflexion_graph.findings._finding import Change

_ORIGINAL = "_unchanged_"


def changed_code(code: str, change: Change) -> str:
    """``code`` with ``change`` applied to ``change.function``."""
    original = f"{_ORIGINAL}{change.function}"
    if change.kind == "output":
        body = f"result = {original}(*args, **kwargs)\nreturn {change.code}"
        wrapper = f"def {change.function}(*args, **kwargs):\n{textwrap.indent(body, '    ')}"
        return f"{code}\n\nimport math\n{original} = {change.function}\n\n{wrapper}\n"
    # input and guard changes are statements at the start of the function: put them there
    return _with_first_statement(code, change)


def _with_first_statement(code: str, change: Change) -> str:
    tree = ast.parse(code)
    for node in tree.body:
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == change.function
        ):
            first = ast.parse(change.code).body
            body = node.body
            docstring = body[:1] if _is_docstring(body[0]) else []
            node.body = [*docstring, *first, *body[len(docstring) :]]
            return ast.unparse(tree)
    raise ValueError(f"the answer defines no {change.function!r}")


def _is_docstring(statement: object) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )
