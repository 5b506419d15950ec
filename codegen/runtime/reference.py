"""The reference validator: `jsonschema`'s Draft 2020-12 with ECMA-262 patterns.

`jsonschema` runs `pattern`, the keys of `patternProperties` (also where `additionalProperties`
and `unevaluatedProperties` skip the properties they match) and the `regex` format with Python's
`re`; JSON Schema means ECMA-262 there. `validator_class()` is Draft 2020-12 with those keywords
and that format judged by a `Search` instead: by default `patterns.pattern` (regress). The runtime
uses it where it hands a whole schema to a validator (mock answers, `unevaluated*` checks); the
tests use it, with their own regress search, as the judge of the generated checks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from .patterns import is_pattern, pattern

Search = Callable[[str, str], bool]  # (pattern, text) -> whether the pattern matches in text


def ecma_search(source: str, text: str) -> bool:
    return pattern(source).search(text)


@functools.cache
def validator_class(search: Search = ecma_search, compiles: Callable[[str], bool] = is_pattern) -> Any:
    """Draft202012Validator judging patterns with `search` and the `regex` format with
    `compiles`; its FORMAT_CHECKER is the draft's with that `regex`."""
    from jsonschema import Draft202012Validator, FormatChecker, validators
    from jsonschema.exceptions import ValidationError

    def additional(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
        properties = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        return [
            key for key in instance if key not in properties and not any(search(p, key) for p in patterns)
        ]

    def evaluated(validator: Any, instance: dict[str, Any], schema: Any) -> set[str]:
        """The keys `schema` evaluates (jsonschema's find_evaluated_property_keys_by_schema)."""
        if not isinstance(schema, dict):
            return set()
        keys: set[str] = set()
        for keyword in ("$ref", "$dynamicRef"):
            if keyword in schema:
                resolved = validator._resolver.lookup(schema[keyword])
                inner = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
                keys |= evaluated(inner, instance, resolved.contents)
        if isinstance(schema.get("properties"), dict):
            keys |= schema["properties"].keys() & instance.keys()
        for keyword in ("additionalProperties", "unevaluatedProperties"):
            if keyword in schema:
                keys |= {k for k, v in instance.items() if next(validator.descend(v, schema[keyword]), None) is None}
        for source in schema.get("patternProperties", {}):
            keys |= {k for k in instance if search(source, k)}
        for name, sub in schema.get("dependentSchemas", {}).items():
            if name in instance:
                keys |= evaluated(validator, instance, sub)
        for keyword in ("allOf", "oneOf", "anyOf"):
            for sub in schema.get(keyword, []):
                if next(validator.descend(instance, sub), None) is None:
                    keys |= evaluated(validator, instance, sub)
        if "if" in schema:
            if validator.evolve(schema=schema["if"]).is_valid(instance):
                keys |= evaluated(validator, instance, schema["if"])
                keys |= evaluated(validator, instance, schema.get("then"))
            else:
                keys |= evaluated(validator, instance, schema.get("else"))
        return keys

    def pattern_keyword(validator: Any, source: str, instance: Any, schema: Any) -> Iterator[Any]:
        if validator.is_type(instance, "string") and not search(source, instance):
            yield ValidationError(f"{instance!r} does not match {source!r}")

    def pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
        if validator.is_type(instance, "object"):
            for source, sub in patterns.items():
                for key, value in instance.items():
                    if search(source, key):
                        yield from validator.descend(value, sub, path=key, schema_path=source)

    def additional_properties(validator: Any, extra: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if not validator.is_type(instance, "object"):
            return
        extras = additional(instance, schema)
        if validator.is_type(extra, "object"):
            for key in extras:
                yield from validator.descend(instance[key], extra, path=key)
        elif not extra and extras:
            joined = ", ".join(repr(key) for key in sorted(extras))
            if "patternProperties" in schema:
                verb = "does" if len(extras) == 1 else "do"
                patterns = ", ".join(repr(p) for p in sorted(schema["patternProperties"]))
                yield ValidationError(f"{joined} {verb} not match any of the regexes: {patterns}")
            else:
                yield ValidationError(f"Additional properties are not allowed ({joined} {_was(extras)} unexpected)")

    def unevaluated_properties(validator: Any, rest: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if not validator.is_type(instance, "object"):
            return
        done = evaluated(validator, instance, schema)
        failed = [
            key
            for key in instance
            if key not in done and next(validator.descend(instance[key], rest, path=key, schema_path=key), None) is not None
        ]
        if failed:
            joined = ", ".join(repr(key) for key in sorted(failed))
            if rest is False:
                yield ValidationError(f"Unevaluated properties are not allowed ({joined} {_was(failed)} unexpected)")
            else:
                yield ValidationError(
                    f"Unevaluated properties are not valid under the given schema ({joined} {_was(failed)} unevaluated and invalid)"
                )

    checker = FormatChecker()
    checker.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)
    checker.checks("regex")(lambda value: not isinstance(value, str) or compiles(value))
    return validators.extend(
        Draft202012Validator,
        {
            "pattern": pattern_keyword,
            "patternProperties": pattern_properties,
            "additionalProperties": additional_properties,
            "unevaluatedProperties": unevaluated_properties,
        },
        format_checker=checker,
    )


def _was(keys: list[str]) -> str:
    return "was" if len(keys) == 1 else "were"


def reference_validator(schema: Any) -> Any:
    """A validator of `schema` (a document, or a schema to `evolve` to) asserting formats."""
    cls = validator_class()
    return cls(schema, format_checker=cls.FORMAT_CHECKER)
