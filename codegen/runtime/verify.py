"""The validator mock values are verified with: the reference validator (`jsonschema` Draft
2020-12, formats asserted, ECMA-262 patterns by regress: `reference.py`), except that a `pattern`
a backtracking engine (regress is one) may take exponential (or high polynomial) time on is not
run on long strings, which then count as not matching, and that `anyOf` and
`oneOf` try each part of the instance against each of their alternatives once (their errors
say only that it failed: the mock needs only whether a value is valid).

A spec's own examples are verified before the mock answers them; `^(https?:\\/\\/)?...([\\w.-]*)*$`
takes seconds on a 40-character example URL that does not quite match, minutes at 50. The
mock's own strings for such patterns are short; a long example under one is just not used.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from .reference import ecma_search as search

try:  # Python 3.11+ keeps the regex parser here
    import re._parser as _sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse  # type: ignore[no-redef]

NESTED_LIMIT = 16  # characters checked against a pattern with nested repetition (2^n steps)
SEQUENCE_LIMIT = 256  # characters checked against one with several open-ended repetitions (n^k)
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


@functools.lru_cache(maxsize=1024)
def safe_length(pattern: str) -> int | None:
    """The longest string the pattern is run on (None: any; the pattern has at most one
    open-ended repetition and none nested). Its shape is read from the pattern respelled for
    Python's parser, as the mock reads it to build strings."""
    from ..patterns import PatternError
    from ..patterns import pattern as compiled
    from .mock import _sre_syntax

    try:
        parsed = _sre_parse.parse(_sre_syntax(pattern, unicode=compiled(pattern).flags == "u"))
    except PatternError:
        return None
    except Exception:  # noqa: BLE001 - not Python syntax: jsonschema reports it
        return None
    nested, open_ended = _scan(parsed, inside=False)
    if nested:
        return NESTED_LIMIT
    if open_ended > 1:
        return SEQUENCE_LIMIT
    return None


def _scan(parsed: Any, inside: bool) -> tuple[bool, int]:
    """(whether a repetition holds another repetition of varying count or an alternation,
    how many open-ended repetitions there are)."""
    nested, open_ended = False, 0
    for op, arg in parsed:
        name = str(op)
        if name in _REPEATS:
            low, high, sub = arg
            repeats = high is _sre_parse.MAXREPEAT or high > 1
            if inside and low != high:  # a count of its own to choose inside another: ambiguous
                return True, open_ended
            open_ended += high is _sre_parse.MAXREPEAT
            inner_nested, inner_open = _scan(sub, inside or repeats)
            if inner_nested:
                return True, open_ended
            open_ended += inner_open
        elif name == "BRANCH":
            if inside and not _unambiguous(arg[1]):
                return True, open_ended
            for branch in arg[1]:
                inner_nested, inner_open = _scan(branch, inside)
                if inner_nested:
                    return True, open_ended
                open_ended = max(open_ended, inner_open)
        elif name == "SUBPATTERN":
            inner_nested, inner_open = _scan(arg[-1], inside)
            if inner_nested:
                return True, open_ended
            open_ended += inner_open
        elif name in ("ASSERT", "ASSERT_NOT"):
            inner_nested, inner_open = _scan(arg[1], inside)
            if inner_nested:
                return True, open_ended
            open_ended += inner_open
    return nested, open_ended


def _unambiguous(branches: list[Any]) -> bool:
    """Alternatives that never compete for the same text: each of one fixed length, no two
    starting with the same character (`('|"|[a-z])*` is linear, `(a|ab)*` is not)."""
    seen: set[int] = set()
    for branch in branches:
        first = _first(branch)
        if first is None or first & seen or not _fixed(branch):
            return False
        seen |= first
    return True


def _first(parsed: Any) -> set[int] | None:
    """The characters a match of `parsed` can start with (None: unknown or any)."""
    for op, arg in parsed:
        name = str(op)
        if name == "LITERAL":
            return {arg}
        if name == "SUBPATTERN":
            return _first(arg[-1])
        if name == "IN":
            chars: set[int] = set()
            for item_op, item in arg:
                if str(item_op) == "LITERAL":
                    chars.add(item)
                elif str(item_op) == "RANGE" and item[1] - item[0] < 4096:
                    chars.update(range(item[0], item[1] + 1))
                else:
                    return None
            return chars
        return None
    return None


def _fixed(parsed: Any) -> bool:
    """Whether every match of `parsed` has the same length (no choice of count or branch)."""
    for op, arg in parsed:
        name = str(op)
        if name in _REPEATS:
            if arg[0] != arg[1] or not _fixed(arg[2]):
                return False
        elif name == "SUBPATTERN":
            if not _fixed(arg[-1]):
                return False
        elif name not in ("LITERAL", "NOT_LITERAL", "IN", "ANY", "CATEGORY", "AT"):
            return False
    return True


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "string"):
        return
    limit = safe_length(pattern)
    if limit is not None and len(instance) > limit:
        yield ValidationError(f"{instance[:40]!r}... is too long to match {pattern!r} safely")
    elif not search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# Which alternatives each part of the instance matched, while the outermost anyOf/oneOf is
# being judged: nested combinators try the same parts again and again (52 overlapping
# alternatives nested twice took jsonschema 4.6 s, three times minutes); each is tried once.
_MATCHED: ContextVar[dict[tuple[int, int], tuple[Any, Any, int]] | None] = ContextVar("codegen_matched", default=None)


def _matches(validator: Any, alternatives: list[Any], instance: Any, most: int) -> int:
    """How many of `alternatives` `instance` matches (counting stops at `most`)."""
    matched = _MATCHED.get()
    if matched is None:
        token = _MATCHED.set({})
        try:
            return _matches(validator, alternatives, instance, most)
        finally:
            _MATCHED.reset(token)
    key = (id(alternatives), id(instance))
    hit = matched.get(key)
    if hit is not None and hit[0] is alternatives and hit[1] is instance:
        return hit[2]
    count = 0
    for index, alternative in enumerate(alternatives):
        if next(validator.descend(instance, alternative, schema_path=index), None) is None:
            count += 1
            if count >= most:
                break
    matched[key] = (alternatives, instance, count)  # both kept alive: their ids stay theirs
    return count


def _any_of(validator: Any, alternatives: list[Any], instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not _matches(validator, alternatives, instance, 1):
        yield ValidationError(f"{instance!r} is not valid under any of the given schemas")


def _one_of(validator: Any, alternatives: list[Any], instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    count = _matches(validator, alternatives, instance, 2)
    if count != 1:
        yield ValidationError(f"{instance!r} is valid under {'none' if not count else 'more than one'} of the given schemas")


@functools.cache
def _validator_class() -> Any:
    from jsonschema import validators

    from .reference import validator_class

    return validators.extend(validator_class(), {"pattern": _pattern, "anyOf": _any_of, "oneOf": _one_of})


def mock_validator(document: dict[str, Any]) -> Any:
    """A validator over `document` (evolve it with `schema=` to check values of a schema)."""
    cls = _validator_class()
    return cls(document, format_checker=cls.FORMAT_CHECKER)
