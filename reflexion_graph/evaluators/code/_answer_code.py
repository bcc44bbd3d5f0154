"""The code of an answer that is judged: what the task's checks use, with what it depends on.

A model often answers with the function in one fenced block and its own tests or a demo in
another, or calls its own checks at the top level. Those are not the answer: run with it, the
model's own wrong assert decides the verdict, or the longest block holds only tests. As in
EvalPlus's sanitizer, the judged code is taken from every Python block: the imports, and the
functions, classes and constants that the names the checks use reach; top-level asserts, calls,
prints, loops and ``if __name__ == "__main__":`` blocks are left out, and the verdict says so.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_PYTHON = ("", "python", "py", "python3")
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_ASSIGNMENTS = (ast.Assign, ast.AnnAssign)
_BUILTINS = frozenset(dir(builtins))


@dataclass(frozen=True)
class AnswerCode:
    """The code judged, and what of the answer was not."""

    code: str
    """The imports and definitions the checks reach, in the answer's order."""
    left_out: list[str] = field(default_factory=list)
    """The answer's own top-level statements that are not run (asserts, calls, demos)."""
    missing: list[str] = field(default_factory=list)
    """Names the checks use that the answer defines nowhere."""


def answer_code(answer: str, used: Iterable[str] = ()) -> AnswerCode:
    """The code of ``answer`` to judge, for checks that use the names in ``used``.

    With no name used, nothing is known of what the checks need: the longest block is
    judged as written. A block that does not parse is judged as written when nothing else
    defines what is used, so its syntax error is what the verdict reports.
    """
    blocks = [block for block in _python_blocks(answer) if block.strip()]
    wanted = set(used)
    if not wanted or not blocks:
        return AnswerCode(_longest(blocks))
    trees = [(block, _parsed(block)) for block in blocks]
    broken = [block for block, tree in trees if tree is None]
    statements = [(node, block) for block, tree in trees if tree for node in tree.body]
    defined = _first_definitions([node for node, _ in statements])
    missing = sorted(wanted - set(defined) - _BUILTINS)
    if missing and broken:
        return AnswerCode(_longest(broken))
    kept = {id(defined[name]) for name in _reached(wanted & set(defined), defined)}
    code = "\n\n".join(
        _text(node, block) for node, block in statements if _is_import(node) or id(node) in kept
    )
    left_out = [_described(node) for node, _ in statements if _runs_at_top(node)]
    return AnswerCode(code, left_out=left_out, missing=missing)


def names_used(tests: Iterable[str]) -> set[str]:
    """The names the tests read that someone else must define.

    ``has_tag`` in ``assert has_tag(s, "b")``, ``add`` in ``check(add)``. Builtins, and names
    the tests bind themselves (a helper's parameter, a loop variable, a function or an import
    of theirs), are not the answer's to define.
    """
    read: set[str] = set()
    bound: set[str] = set()
    for source in tests:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                (bound if isinstance(node.ctx, ast.Store) else read).add(node.id)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, _DEFINITIONS):
                bound.add(node.name)
            elif isinstance(node, ast.alias):
                bound.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
                bound.add(node.name)
    return read - bound - _BUILTINS


def _python_blocks(answer: str) -> list[str]:
    blocks = [body for lang, body in _FENCE.findall(answer) if lang.lower() in _PYTHON]
    return blocks or [answer]


def _parsed(block: str) -> ast.Module | None:
    try:
        return ast.parse(block)
    except (SyntaxError, ValueError):
        return None


def _first_definitions(statements: list[ast.stmt]) -> dict[str, ast.stmt]:
    """Each name the answer defines at the top level, by its first definition."""
    defined: dict[str, ast.stmt] = {}
    for statement in statements:
        for name in _names_defined(statement):
            defined.setdefault(name, statement)
    return defined


def _names_defined(statement: ast.stmt) -> list[str]:
    if isinstance(statement, _DEFINITIONS):
        return [statement.name]
    if isinstance(statement, _ASSIGNMENTS):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return [
            node.id
            for target in targets
            for node in ast.walk(target)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
        ]
    return []


def _reached(start: set[str], defined: dict[str, ast.stmt]) -> set[str]:
    """The defined names that ``start`` reaches through the names each definition reads."""
    reached, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        read = {n.id for n in ast.walk(defined[name]) if isinstance(n, ast.Name)}
        todo += [other for other in read & set(defined) if other not in reached]
    return reached


def _is_import(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Import | ast.ImportFrom)


def _runs_at_top(statement: ast.stmt) -> bool:
    """Whether the statement does something when the module loads (beyond defining)."""
    if _is_import(statement) or isinstance(statement, _DEFINITIONS):
        return False
    if isinstance(statement, _ASSIGNMENTS):
        return not _names_defined(statement)  # ``module.attribute = ...`` changes something
    is_docstring = isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    return not is_docstring and not isinstance(statement, ast.Pass)


def _described(statement: ast.stmt) -> str:
    if isinstance(statement, ast.If) and "__name__" in ast.unparse(statement.test):
        return 'the `if __name__ == "__main__":` block'
    line = ast.unparse(statement).splitlines()[0]
    return f"`{line[:80]}`"


def _text(node: ast.stmt, block: str) -> str:
    """The statement as the answer wrote it (comments inside it kept)."""
    return ast.get_source_segment(block, node, padded=True) or ast.unparse(node)


def _longest(blocks: list[str]) -> str:
    return max(blocks, key=len).strip() if blocks else ""
