"""The search proposer: output changes built from general Python operations.

Each candidate is an expression over ``result`` (what the failed answer returns now), made of
at most two building blocks: number operations (round, floor, scale, shift), text operations
(case, strip, a prefix or suffix, a replacement, the fields of a delimited text reordered or
joined anew), sequence operations (sort, reverse, dedupe, filter, apply to each item), type
conversions, a mapping wrapper and a table for a yes/no result. Constants (a factor, a prefix,
a separator) are read off the failed checks' values, never taken from a list. A candidate is kept
only where it maps the answer's value to the expected one on *every* failed check; the verifier
then runs it against all the task's checks.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import partial
from typing import Any, NamedTuple

from reflexion_graph.findings._checks import same

Pair = tuple[Any, Any]
"""(what the answer returned, what the check expected)."""


@dataclass(frozen=True)
class Block:
    """One operation on a value: how it is written (``{x}`` is the value) and what it does."""

    template: str
    apply: Callable[[Any], Any]
    cost: int = 1
    constants: int = 0
    kept: bool = True
    """Whether memory may keep a change made with it (a shift by one may not)."""

    def write(self, inner: str) -> str:
        """The block applied to the expression ``inner`` (parenthesised where it must be)."""
        bare = "({x}" in self.template or "{x} for" in self.template or " " not in inner
        return self.template.format(x=inner if bare else f"({inner})")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numeric(op: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if not _number(value):
            raise TypeError("not a number")
        return op(value)

    return apply


def _text(op: Callable[[str], Any]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if not isinstance(value, str):
            raise TypeError("not a text")
        return op(value)

    return apply


def _items(op: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise TypeError("not a sequence")
        return op(value)

    return apply


def _collection(op: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if not isinstance(value, list | tuple | set | frozenset):
            raise TypeError("not a collection")
        return op(value)

    return apply


def _formatted(value: Any, spec: str) -> str:
    return format(value, spec)


FIXED_BLOCKS: tuple[Block, ...] = (
    Block("round({x})", _numeric(round)),
    *(Block(f"round({{x}}, {n})", _numeric(partial(round, ndigits=n))) for n in (1, 2, 3)),
    Block("int({x})", _numeric(int)),
    Block("float({x})", lambda v: float(v) if _number(v) or isinstance(v, bool) else _no()),
    Block("math.floor({x})", _numeric(math.floor)),
    Block("math.ceil({x})", _numeric(math.ceil)),
    Block("math.floor({x} + 0.5)", _numeric(lambda v: math.floor(v + 0.5)), cost=2),
    Block("abs({x})", _numeric(abs)),
    Block("-{x}", _numeric(lambda v: -v)),
    Block("int({x})", lambda v: int(v) if isinstance(v, bool) else _no()),
    Block("bool({x})", lambda v: bool(v) if _number(v) else _no()),
    Block("str({x})", lambda v: str(v) if _number(v) or isinstance(v, bool) else _no()),
    *(
        Block(f"format({{x}}, '.{n}f')", _numeric(partial(_formatted, spec=f".{n}f")))
        for n in (1, 2)
    ),
    Block("int({x})", _text(int)),
    Block("float({x})", _text(float)),
    Block("{x}.lower()", _text(str.lower)),
    Block("{x}.upper()", _text(str.upper)),
    Block("{x}.strip()", _text(str.strip)),
    Block("{x}.title()", _text(str.title)),
    Block("{x}.capitalize()", _text(str.capitalize)),
    Block("len({x})", lambda v: len(v) if isinstance(v, str | list | tuple | dict) else _no()),
    Block("sorted({x})", _collection(sorted)),
    Block("sorted({x}, reverse=True)", _collection(partial(sorted, reverse=True))),
    Block("list({x})", lambda v: list(v) if isinstance(v, tuple | set | frozenset) else _no()),
    Block("tuple({x})", _items(tuple)),
    Block("{x}[::-1]", _items(lambda v: v[::-1])),
    Block("list(dict.fromkeys({x}))", _items(lambda v: list(dict.fromkeys(v)))),
    Block("[v for v in {x} if v is not None]", _items(lambda v: [i for i in v if i is not None])),
    Block("sum({x})", _items(sum)),
)
"""Operations that take no constant."""


def _no() -> Any:
    raise TypeError("does not apply")


def _each(block: Block) -> Block:
    """``block`` applied to every item of a sequence, as a list."""
    return Block(
        "[" + block.write("v") + " for v in {x}]",
        _items(lambda items: [block.apply(item) for item in items]),
        cost=block.cost + 1,
        constants=block.constants,
        kept=block.kept,
    )


def induced_blocks(pairs: Sequence[Pair]) -> list[Block]:
    """Operations whose constant is read off one pair; the search checks them on every pair.

    Those read off more pairs come first (two pairs that give one factor say more than one).
    """
    blocks: dict[str, Block] = {}
    votes: dict[str, int] = {}
    for got, want in pairs:
        for block in _induced(got, want):
            blocks.setdefault(block.template, block)
            votes[block.template] = votes.get(block.template, 0) + 1
    for block in _yes_no_tables(pairs):
        blocks.setdefault(block.template, block)
        votes[block.template] = len(pairs)
    return sorted(blocks.values(), key=lambda block: -votes[block.template])


def _yes_no_tables(pairs: Sequence[Pair]) -> Iterator[Block]:
    """A table from a yes/no result to the values the checks expect, where both were seen.

    Both ``True`` and ``False`` must occur, each always with the same expected value: a table
    read off one of them says nothing of the other.
    """
    table: dict[bool, Any] = {}
    for got, want in pairs:
        if not isinstance(got, bool) or not same(table.setdefault(got, want), want):
            return
    if len(table) == 2 and not same(table[True], table[False]):
        shown = _escaped(f"{{True: {table[True]!r}, False: {table[False]!r}}}")
        yield Block(shown + "[{x}]", partial(_looked_up, table), 2, 2)


_BOUNDS: dict[str, Callable[[Any, Any], Any]] = {"min": min, "max": max}


def _induced(got: Any, want: Any) -> Iterator[Block]:
    if isinstance(got, list | tuple) and isinstance(want, list) and len(got) == len(want):
        for item, wanted in zip(got, want, strict=True):
            if not same(item, wanted):
                yield from (_each(block) for block in _induced(item, wanted))
                break
    if _number(got) and _number(want) and got != want:
        yield from _numeric_constants(got, want)
    if isinstance(got, str) and isinstance(want, str):
        yield from _text_constants(got, want)
        yield from _fields_rejoined(got, want)
    if isinstance(want, dict):
        yield from _wrappers(got, want)


def _numeric_constants(got: float, want: float) -> Iterator[Block]:
    if got and want:
        for factor in {round(want / got), round(got / want)}:
            if abs(factor) < 2:
                continue
            yield Block(f"{{x}} * {factor}", _numeric(partial(operator.mul, factor)), 2, 1)
            yield Block(f"{{x}} / {factor}", _numeric(partial(_divided, by=factor)), 2, 1)
            yield Block(f"{{x}} // {factor}", _numeric(partial(_floor_divided, by=factor)), 2, 1)
    bound, name = (want, "min") if got > want else (want, "max")
    yield Block(f"{name}({{x}}, {bound!r})", _numeric(partial(_BOUNDS[name], bound)), 2, 1)
    shift = want - got
    if shift and float(shift).is_integer():
        shift = int(shift)
        sign = "+" if shift > 0 else "-"
        add = _numeric(partial(operator.add, shift))
        yield Block(f"{{x}} {sign} {abs(shift)}", add, 2, 1, kept=abs(shift) != 1)


def _escaped(text: str) -> str:
    """``text`` safe inside a block's template (its braces doubled)."""
    return text.replace("{", "{{").replace("}", "}}")


def _text_constants(got: str, want: str) -> Iterator[Block]:
    if got and want.endswith(got) and want != got:
        prefix = want[: -len(got)]
        yield Block(f"{_escaped(repr(prefix))} + {{x}}", _text(partial(operator.add, prefix)), 2, 1)
    if got and want.startswith(got) and want != got:
        suffix = want[len(got) :]
        yield Block(f"{{x}} + {_escaped(repr(suffix))}", _text(partial(_appended, suffix)), 2, 1)
    if want and got.endswith(want) and want != got:
        prefix = got[: -len(want)]
        yield Block(
            f"{{x}}.removeprefix({_escaped(repr(prefix))})",
            _text(partial(_without_prefix, prefix)),
            2,
            1,
        )
    if want and got.startswith(want) and want != got:
        suffix = got[len(want) :]
        yield Block(
            f"{{x}}.removesuffix({_escaped(repr(suffix))})",
            _text(partial(_without_suffix, suffix)),
            2,
            1,
        )
    replacements = filter(None, [_repeated_edit(got, want), _replacement(got, want)])
    for old, new in dict.fromkeys(replacements):
        yield Block(
            f"{{x}}.replace({_escaped(repr(old))}, {_escaped(repr(new))})",
            _text(partial(_replaced, old, new)),
            2,
            2,
        )


_MOST_FIELDS = 4
"""Fields of a delimited text are reordered up to this many (4! orders)."""


def _fields_rejoined(got: str, want: str) -> Iterator[Block]:
    """The fields of ``got`` split at one separator, in another order or joined by another."""
    for old in dict.fromkeys(char for char in got if not char.isalnum() and char != " "):
        fields = got.split(old)
        if not 2 <= len(fields) <= _MOST_FIELDS or not all(fields):
            continue
        for new in dict.fromkeys([*(c for c in want if not c.isalnum()), ""]):
            for order in itertools.permutations(range(len(fields))):
                if new.join(fields[i] for i in order) != want:
                    continue
                kept_order = order == tuple(range(len(fields)))
                template = (
                    f"{_escaped(repr(new))}.join({{x}}.split({_escaped(repr(old))}))"
                    if kept_order
                    else f"{_escaped(repr(new))}.join([{{x}}.split({_escaped(repr(old))})[i] "
                    f"for i in {order}])"
                )
                reorder = None if kept_order else order
                yield Block(template, _text(partial(_rejoined, old, new, reorder)), 2, 2)


def _rejoined(old: str, new: str, order: tuple[int, ...] | None, value: str) -> str:
    """``value``'s fields (split at ``old``) joined by ``new``, in ``order`` (or as they are)."""
    fields = value.split(old)
    if order is None:
        return new.join(fields)
    if len(fields) != len(order):
        raise TypeError("another number of fields")
    return new.join(fields[i] for i in order)


def _looked_up(table: dict[bool, Any], value: Any) -> Any:
    if not isinstance(value, bool):
        raise TypeError("not a yes/no value")
    return table[value]


def _repeated_edit(got: str, want: str) -> tuple[str, str] | None:
    """The one edit, as ``(old, new)``, where the texts differ in several places by that edit.

    Tried before the whole differing stretch: ``'a.b.c'`` to ``'a__b__c'`` is ``'.'`` to ``'__'``
    twice, not ``'.b.'`` to ``'__b__'``.
    """
    edits = [
        (got[i1:i2], want[j1:j2])
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, got, want, autojunk=False).get_opcodes()
        if tag != "equal"
    ]
    if len(edits) < 2 or len(set(edits)) != 1 or not edits[0][0]:
        return None
    return edits[0]


def _replacement(got: str, want: str) -> tuple[str, str] | None:
    """The one differing stretch of two texts, as ``(old, new)``, where they differ in one."""
    start = 0
    while start < min(len(got), len(want)) and got[start] == want[start]:
        start += 1
    end = 0
    while end < min(len(got), len(want)) - start and got[-1 - end] == want[-1 - end]:
        end += 1
    old, new = got[start : len(got) - end], want[start : len(want) - end]
    return (old, new) if old and old != new else None


def _wrappers(got: Any, want: dict[Any, Any]) -> Iterator[Block]:
    for key, value in want.items():
        if same(value, got):
            rest = {k: v for k, v in want.items() if k != key}
            parts = [f"{k!r}: {v!r}" for k, v in want.items() if k != key]
            shown = _escaped("{" + ", ".join([*parts, f"{key!r}: "]) + "}").replace(
                ": }}", ": {x}}}"
            )
            yield Block(shown, partial(_wrapped, rest, key), 2, len(rest))


class Fitted(NamedTuple):
    """An expression over ``result`` that fits every pair."""

    expression: str
    cost: int
    constants: int
    kept: bool
    """Whether memory may keep it as a convention (not where it shifts by one)."""


def output_changes(pairs: Sequence[Pair]) -> list[Fitted]:
    """Expressions over ``result`` that map every pair's value to its expected one.

    Cheapest first; at most two blocks deep. A
    block with a constant must change the value on at least two pairs, where there are two: a
    constant only one pair needs (``min(result, 2.9)``) is that pair's value, not a rule.
    """
    if not pairs:
        return []
    confirmed = min(2, len(pairs))
    induced = [b for b in induced_blocks(pairs) if _changes(b, pairs) >= confirmed]
    singles = [*FIXED_BLOCKS, *induced]
    singles += [_each(block) for block in FIXED_BLOCKS]
    found: dict[str, Fitted] = {}
    for block in singles:
        if _fits(block.apply, pairs):
            expression = block.write("result")
            found.setdefault(
                expression, Fitted(expression, block.cost, block.constants, block.kept)
            )
    for inner in singles:
        for outer in FIXED_BLOCKS:
            expression = outer.write(inner.write("result"))
            if expression in found or _fits(outer.apply, [(i, i) for i in _outputs(inner, pairs)]):
                continue  # already found, or the outer block changes nothing here
            if _fits(partial(_composed, outer, inner), pairs):
                found[expression] = Fitted(
                    expression,
                    inner.cost + outer.cost,
                    inner.constants + outer.constants,
                    inner.kept and outer.kept,
                )
    return sorted(found.values(), key=lambda fitted: fitted.cost)  # stable: induction order


def _fits(change: Callable[[Any], Any], pairs: Sequence[Pair]) -> bool:
    for got, want in pairs:
        try:
            if not same(change(got), want):
                return False
        except Exception:
            return False
    return True


def _composed(outer: Block, inner: Block, value: Any) -> Any:
    return outer.apply(inner.apply(value))


def _divided(value: Any, by: int) -> Any:
    return value / by


def _floor_divided(value: Any, by: int) -> Any:
    return value // by


def _appended(suffix: str, value: str) -> str:
    return value + suffix


def _without_prefix(prefix: str, value: str) -> str:
    return value.removeprefix(prefix)


def _without_suffix(suffix: str, value: str) -> str:
    return value.removesuffix(suffix)


def _replaced(old: str, new: str, value: str) -> str:
    return value.replace(old, new)


def _wrapped(rest: dict[Any, Any], key: Any, value: Any) -> dict[Any, Any]:
    return {**rest, key: value}


def _changes(block: Block, pairs: Sequence[Pair]) -> int:
    """On how many pairs ``block`` changes the answer's value."""
    changed = 0
    for got, _ in pairs:
        try:
            changed += not same(block.apply(got), got)
        except Exception:
            continue
    return changed


def _outputs(block: Block, pairs: Sequence[Pair]) -> list[Any]:
    """What ``block`` makes of each pair's value (``[]`` where it does not apply to one)."""
    try:
        return [block.apply(got) for got, _ in pairs]
    except Exception:
        return []
