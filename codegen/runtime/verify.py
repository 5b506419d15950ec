"""The validator mock values are verified with: the reference validator (`jsonschema` Draft
2020-12, formats asserted, ECMA-262 patterns by regress: `reference.py`), except that a `pattern`
a backtracking engine (regress is one) may take exponential (or high polynomial) time on is not
run on long strings, which then count as not matching, and that `anyOf` and
`oneOf` try each part of the instance against each of their alternatives once (their errors
say only that it failed: the mock needs only whether a value is valid).

A spec's own examples are verified before the mock answers them; `^(https?:\\/\\/)?...([\\w.-]*)*$`
takes seconds on a 40-character example URL that does not quite match, minutes at 50. The
mock's own strings for such patterns are short; a long example under one is just not used.
Which patterns and lengths those are is `patterns.safe_length`'s reading, the one that sends
the generated checks' long searches to the search worker.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from .patterns import safe_length
from .reference import ecma_search as search


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
