"""Helpers for the generated JSON Schema checks (`_validators.py` of a generated package).

The generated check functions return `None` for a valid instance or a `Failure` naming where
and why; these helpers give them JSON Schema's own notions of equality, uniqueness, formats and
patterns (ECMA-262, `pattern`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextvars import ContextVar
from fractions import Fraction
from typing import Any

from . import patterns

Check = Callable[[Any], "Failure | None"]
# Generated checks compile their patterns with it (ECMA-262, once per pattern).
pattern = patterns.pattern

# Which way the value being checked travels: "request", "response", or "" for a value an
# implementation builds. readOnly properties are required only in responses, writeOnly ones
# only in requests.
DIRECTION: ContextVar[str] = ContextVar("codegen_direction", default="")


def direction() -> str:
    """The direction of the value being checked (see DIRECTION)."""
    return DIRECTION.get()


class Failure:
    """Why an instance does not match a schema, and where (a path of keys and indexes)."""

    __slots__ = ("message", "path")

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        self.message = message
        self.path = path

    def within(self, *prefix: str | int) -> Failure:
        """The same failure seen from a containing instance."""
        return Failure(self.message, prefix + self.path)

    def where(self, root: str = "") -> str:
        """The path as `root.key[0].other`."""
        text = root
        for part in self.path:
            if isinstance(part, int):
                text += f"[{part}]"
            elif text:
                text += f".{part}"
            else:
                text = str(part)
        return text

    def __repr__(self) -> str:
        return f"Failure({self.message!r}, {self.path!r})"


def json_type(value: Any) -> str:
    """The JSON type name of a Python value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def is_integer(value: Any) -> bool:
    """JSON Schema's integer: any number with a zero fractional part (1.0 is an integer)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def json_equal(one: Any, two: Any) -> bool:
    """JSON equality: 1 == 1.0, but true != 1; objects and arrays compared deeply."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, dict) and isinstance(two, dict):
        if len(one) != len(two):
            return False
        return all(k in two and json_equal(v, two[k]) for k, v in one.items())
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(json_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    if isinstance(one, (dict, list)) or isinstance(two, (dict, list)):
        return False
    return bool(one == two)


def in_enum(value: Any, options: tuple[Any, ...]) -> bool:
    return any(json_equal(value, option) for option in options)


def has_duplicates(items: list[Any]) -> bool:
    """Whether two items of an array are JSON-equal (uniqueItems)."""
    if all(isinstance(i, str) for i in items):
        return len(set(items)) != len(items)
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if json_equal(a, b):
                return True
    return False


def multiple_of(value: float, divisor: float) -> bool:
    """JSON Schema's multipleOf, computed as the reference validator does (exactly when floats
    overflow)."""
    if isinstance(divisor, float):
        try:
            quotient = value / divisor
            return int(quotient) == quotient
        except OverflowError:
            try:
                return (Fraction(value) / Fraction(divisor)).denominator == 1
            except (OverflowError, ValueError):  # an infinite value is no multiple
                return False
    return not value % divisor


def _format_checkers() -> dict[str, Callable[[Any], bool]]:
    """The Draft 2020-12 format checkers of `jsonschema`, the reference the tests compare to
    (`regex` being ECMA-262)."""
    from .reference import validator_class

    checker = validator_class().FORMAT_CHECKER
    table: dict[str, Callable[[Any], bool]] = {}
    for name, (func, raises) in checker.checkers.items():

        def check(value: Any, func: Callable[[Any], Any] = func, raises: Any = raises) -> bool:
            try:
                return bool(func(value))
            except raises:
                return False
            except Exception:  # noqa: BLE001 - a checker that fails on odd input rejects it
                return False

        table[name] = check
    return table


_FORMATS: dict[str, Callable[[Any], bool]] | None = None


def format_ok(name: str, value: Any) -> bool:
    """Whether `value` satisfies format `name` (unknown formats always do)."""
    global _FORMATS
    if _FORMATS is None:
        _FORMATS = _format_checkers()
    check = _FORMATS.get(name)
    return True if check is None else check(value)


class ReferenceCheck:
    """A schema checked by the reference validator itself (`jsonschema`, Draft 2020-12, formats
    asserted, patterns ECMA-262), for the keywords generated checks leave to it: `unevaluatedProperties` and
    `unevaluatedItems`, whose meaning depends on what every applicator beside them evaluated.

    `source` is a JSON document holding the schema's `$ref` at its root and every part of the
    spec that reference reaches, at the same pointers; it is parsed on first use.
    """

    __slots__ = ("_source", "_validator")

    def __init__(self, source: str) -> None:
        self._source = source
        self._validator: Any = None

    def __call__(self, value: Any) -> Failure | None:
        if self._validator is None:
            from .reference import reference_validator

            self._validator = reference_validator(json.loads(self._source))
        from jsonschema.exceptions import best_match

        try:
            error = best_match(self._validator.iter_errors(value))
        except (TypeError, ValueError) as exc:  # not JSON data (a model built in code)
            return Failure(f"must be JSON data ({exc})")
        if error is None:
            return None
        message = error.message[:1].lower() + error.message[1:]
        return Failure(message, tuple(error.absolute_path))


MAX_REASON = 200  # characters of one alternative's failure quoted in a combinator's message
MAX_MESSAGE = 1000  # characters of a combinator's message


def _brief(failure: Failure) -> str:
    where = failure.where()
    text = f"{where}: {failure.message}" if where else failure.message
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def _reasons(failures: list[tuple[int, Failure]]) -> str:
    """Each alternative's failure, briefly, as long as the message stays short."""
    shown: list[str] = []
    size = 0
    for count, (i, failure) in enumerate(failures):
        reason = f"({i}) {_brief(failure)}"
        if size + len(reason) > MAX_MESSAGE and shown:
            shown.append(f"and {len(failures) - count} more")
            break
        shown.append(reason)
        size += len(reason) + 2
    return "; ".join(shown)


# What each combinator found for each part of the instance, while the outermost combinator is
# being evaluated: combinators nested in combinators try the same parts again and again (an
# `anyOf` of 50 alternatives in one of 50 is 2,500 tries, one level further 125,000); each is
# judged once. Keyed by the alternatives (functions) and the id() of the part, which is kept
# with the result (alive, its id cannot be reused while the outermost evaluation lasts).
_JUDGED: ContextVar[dict[tuple[tuple[Check, ...], int], tuple[Any, Failure | None]] | None] = ContextVar("codegen_judged", default=None)


def _judged(kind: Callable[[Any, tuple[Check, ...]], Failure | None], value: Any, checks: tuple[Check, ...]) -> Failure | None:
    judged = _JUDGED.get()
    if judged is None:
        token = _JUDGED.set({})
        try:
            return kind(value, checks)
        finally:
            _JUDGED.reset(token)
    key = (checks, id(value))
    hit = judged.get(key)
    if hit is not None and hit[0] is value:
        return hit[1]
    failure = kind(value, checks)
    judged[key] = (value, failure)
    return failure


def any_of(value: Any, checks: tuple[Check, ...]) -> Failure | None:
    """`anyOf`: None when one alternative matches, else a failure quoting each mismatch."""
    return _judged(_any_of, value, checks)


def one_of(value: Any, checks: tuple[Check, ...]) -> Failure | None:
    """`oneOf`: None when exactly one alternative matches."""
    return _judged(_one_of, value, checks)


def _any_of(value: Any, checks: tuple[Check, ...]) -> Failure | None:
    failures = []
    for i, check in enumerate(checks, 1):
        failure = check(value)
        if failure is None:
            return None
        failures.append((i, failure))
    return Failure(f"must match at least one of {len(checks)} alternatives: {_reasons(failures)}")


def _one_of(value: Any, checks: tuple[Check, ...]) -> Failure | None:
    failures = []
    matched = []
    for i, check in enumerate(checks, 1):
        failure = check(value)
        if failure is None:
            matched.append(i)
        else:
            failures.append((i, failure))
    if len(matched) == 1:
        return None
    if not matched:
        return Failure(f"must match exactly one of {len(checks)} alternatives, matches none: {_reasons(failures)}")
    listed = ", ".join(str(i) for i in matched)
    return Failure(f"must match exactly one of {len(checks)} alternatives, matches {len(matched)} (alternatives {listed})")


def _names(group: tuple[str, ...]) -> str:
    quoted = [f"`{n}`" for n in group]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " with " + quoted[-1]


def required_alternatives(value: dict[str, Any], groups: tuple[tuple[str, ...], ...], exactly_one: bool) -> Failure:
    """Why `value` fails a `oneOf`/`anyOf` whose alternatives only require properties (say
    `status`, or `thread_id` with `run_ids`): a message naming the properties, not the
    alternatives. The generated check has already found that it fails."""
    options = ", or ".join(_names(g) for g in groups)
    if any(all(name in value for name in group) for group in groups):
        return Failure(f"give exactly one of: {options}; not several")
    hint = ""
    partial = [g for g in groups if any(n in value for n in g)]
    if partial:
        given = [f"`{n}`" for n in partial[0] if n in value]
        missing = [f"`{n}`" for n in partial[0] if n not in value]
        hint = f"; {', '.join(given)} and {', '.join(missing)} go together ({', '.join(missing)} is missing)"
    return Failure(f"needs {'exactly ' if exactly_one else ''}one of: {options}{hint}")
