"""Verifiable checkers: JSON schema, Countdown equations, function calls."""

from __future__ import annotations

import ast
import operator
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from reflexion_graph._parsing import extract_final_answer, extract_json, parse_call
from reflexion_graph._records import Evaluation, FailedCheck, make_check, make_evaluation
from reflexion_graph.errors import ConfigurationError
from reflexion_graph.evaluators._base import BaseEvaluator


class JSONSchemaEvaluator(BaseEvaluator):
    """Passes when the answer contains JSON that validates against ``schema``."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        from jsonschema import Draft202012Validator, SchemaError

        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:
            raise ConfigurationError(f"invalid JSON schema: {error.message}") from error
        self.validator = Draft202012Validator(schema)

    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Extract the first JSON value and validate it."""
        value = extract_json(answer)
        if value is None:
            return make_evaluation(False, feedback="The answer contains no JSON.", source="checker")
        errors = sorted(self.validator.iter_errors(value), key=lambda e: list(e.path))
        if not errors:
            return make_evaluation(True, source="checker")
        shown = [f"at {'/'.join(map(str, e.path)) or 'the top'}: {e.message}" for e in errors[:3]]
        return make_evaluation(
            False, feedback="Invalid JSON: " + "; ".join(shown), source="checker"
        )


_EQUATION = re.compile(r"[\d\s+\-*/().]+")
_TIMES, _DIVIDE = "\u00d7", "\u00f7"  # the x and ÷ signs some models write


class CountdownEvaluator(BaseEvaluator):
    """Countdown (the Reflect-Retry-Reward math task): reach ``target`` from ``numbers``.

    The answer's equation may use each given number at most once (all of them with
    ``use_all``), only ``+ - * /`` and parentheses; ``= target`` and text around it are ignored.
    With ``integer_steps`` every intermediate result must be a whole number.
    """

    def __init__(
        self,
        numbers: Sequence[int],
        target: int,
        *,
        use_all: bool = False,
        integer_steps: bool = False,
    ) -> None:
        if not numbers or not all(isinstance(n, int) for n in numbers):
            raise ConfigurationError(f"countdown numbers must be integers, got {numbers!r}")
        self.numbers = list(numbers)
        self.target = int(target)
        self.use_all = use_all
        self.integer_steps = integer_steps

    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Parse the equation and check the numbers, the operators and the value."""
        expression = _equation_of(extract_final_answer(answer)) or _equation_of(answer)
        if expression is None:
            return self._fail("No equation of numbers and + - * / was found in the answer.")
        try:
            tree = ast.parse(expression, mode="eval").body
            value, used = self._value(tree)
        except _Invalid as error:
            return self._fail(f"The equation {expression!r} {error}.")
        except SyntaxError:
            return self._fail(f"The equation {expression!r} is not well formed.")
        extra = Counter(used) - Counter(self.numbers)
        if extra:
            number, _ = extra.most_common(1)[0]
            given = self.numbers.count(number)
            return self._fail(
                f"The equation uses {number} {used.count(number)} time(s) but it is given "
                f"{given} time(s)."
            )
        if self.use_all and Counter(used) != Counter(self.numbers):
            return self._fail(f"The equation must use every number of {self.numbers}.")
        if value != self.target:
            shown = value if value.denominator != 1 else value.numerator
            return self._fail(
                f"The equation {expression!r} equals {shown}, not {self.target}.",
                make_check("answer", expression, expected=str(self.target), actual=str(shown)),
            )
        return make_evaluation(True, source="checker")

    def _value(self, node: ast.expr) -> tuple[Fraction, list[int]]:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return Fraction(node.value), [node.value]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left, used_left = self._value(node.left)
            right, used_right = self._value(node.right)
            if isinstance(node.op, ast.Div) and right == 0:
                raise _Invalid("divides by zero")
            result = _OPERATORS[type(node.op)](left, right)
            if self.integer_steps and result.denominator != 1:
                raise _Invalid(f"has a non-integer intermediate result ({result})")
            return result, used_left + used_right
        raise _Invalid("may only combine the given numbers with + - * /")

    @staticmethod
    def _fail(feedback: str, *checks: FailedCheck) -> Evaluation:
        return make_evaluation(False, feedback=feedback, source="checker", checks=checks)


class _Invalid(Exception):
    pass


_OPERATORS: dict[type[ast.operator], Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _equation_of(text: str) -> str | None:
    """The longest run of digits, operators and parentheses, cut at ``=``."""
    candidates = []
    for part in text.split("="):
        for match in _EQUATION.findall(part.replace(_TIMES, "*").replace(_DIVIDE, "/")):
            stripped = match.strip()
            if re.search(r"\d", stripped) and re.search(r"[+\-*/]", stripped):
                candidates.append(stripped)
    return max(candidates, key=len) if candidates else None


_MISSING = object()


class FunctionCallEvaluator(BaseEvaluator):
    """APIGen/BFCL-style check of one tool call: the name and each argument.

    ``arguments`` maps each parameter to its acceptable values (BFCL's possible answers); an
    empty string among them marks the parameter optional. The answer may be JSON
    (``{"name": ..., "arguments": {...}}``) or a Python call (``name(a=1, b="x")``).
    The score is the fraction of parameters that are right (0 for a wrong function name).
    With ``show_expected``, feedback on a wrong argument also names an acceptable value, as
    an API's validation error or a grader's report would.
    """

    def __init__(
        self,
        name: str,
        arguments: Mapping[str, Sequence[Any]],
        *,
        show_expected: bool = False,
    ) -> None:
        if not name:
            raise ConfigurationError("FunctionCallEvaluator needs the expected function name")
        for parameter, acceptable in arguments.items():
            if isinstance(acceptable, str) or not isinstance(acceptable, Sequence):
                raise ConfigurationError(
                    f"acceptable values of {parameter!r} must be a list, got {acceptable!r}"
                )
        self.name = name
        self.arguments = {key: list(values) for key, values in arguments.items()}
        self.show_expected = show_expected

    @classmethod
    def exact(
        cls, name: str, arguments: Mapping[str, Any], *, show_expected: bool = False
    ) -> FunctionCallEvaluator:
        """Expect exactly these argument values."""
        return cls(
            name,
            {key: [value] for key, value in arguments.items()},
            show_expected=show_expected,
        )

    def evaluate(self, task: str, answer: str) -> Evaluation:
        """Parse the call and compare it with the expectation."""
        call = parse_call(answer)
        if call is None:
            return make_evaluation(
                False,
                feedback='No function call found: answer with JSON {"name", "arguments"} '
                "or name(arg=value).",
                source="checker",
            )
        name, given = call
        if name != self.name:
            return make_evaluation(
                False,
                feedback=f"Called {name!r}, which is not the right function.",
                source="checker",
                checks=[
                    make_check(
                        "answer", "the function called", expected=repr(self.name), actual=repr(name)
                    )
                ],
            )
        problems, checks = [], []
        for parameter, acceptable in self.arguments.items():
            shown = [value for value in acceptable if value != ""]
            if parameter not in given:
                if "" not in acceptable:
                    problems.append(f"missing argument {parameter!r}")
                    checks.append(self._argument_check(parameter, shown))
            elif not any(_same(given[parameter], value) for value in shown):
                problems.append(self._wrong(parameter, given[parameter], shown))
                checks.append(self._argument_check(parameter, shown, given[parameter]))
        for key in given:
            if key not in self.arguments:
                problems.append(f"unexpected argument {key!r}")
                checks.append(self._argument_check(key, [], given[key]))
        checked = len(self.arguments) + sum(key not in self.arguments for key in given)
        score = 1.0 - len(problems) / checked if checked else 1.0
        return make_evaluation(
            not problems,
            max(score, 0.0),
            feedback="; ".join(problems),
            source="checker",
            checks=checks,
        )

    def _argument_check(
        self, parameter: str, acceptable: Sequence[Any], given: Any = _MISSING
    ) -> FailedCheck:
        """One wrong argument as a record: its first acceptable value, and the value given.

        No acceptable value: no parameter takes it; no value given: it was missing.
        """
        return make_check(
            "argument",
            f"{self.name}({parameter}=...)",
            expected=repr(acceptable[0]) if acceptable else "",
            actual="" if given is _MISSING else repr(given),
        )

    def _wrong(self, parameter: str, given: Any, shown: Sequence[Any]) -> str:
        problem = f"argument {parameter!r}={given!r} is not right"
        return f"{problem} (expected {shown[0]!r})" if self.show_expected and shown else problem


def _same(given: Any, expected: Any) -> bool:
    if isinstance(given, str) and isinstance(expected, str):
        return given.strip().lower() == expected.strip().lower()
    if isinstance(given, int | float) and isinstance(expected, int | float):
        return abs(given - expected) < 1e-9
    return bool(given == expected)
