"""Deterministic example values synthesized from JSON Schemas (mock mode, error bodies).

`synthesize(schema)` returns the same value for the same schema and seed. In mock mode each
candidate is verified against the schema (by `jsonschema`, which mock mode may afford) and the
next variant is tried until one is valid.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..dialect import access

try:  # Python 3.11+ keeps the regex parser here
    import re._parser as sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    import sre_parse  # type: ignore[no-redef]

Resolve = Callable[[Any], Any]

_FORMAT_VALUES: dict[str, str] = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "duration": "P1D",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "https://example.com/",
    "uri-reference": "/example",
    "iri": "https://example.com/",
    "iri-reference": "/example",
    "uri-template": "https://example.com/{id}",
    "json-pointer": "/example",
    "relative-json-pointer": "0",
    "regex": "^a$",
    "byte": "",
    "binary": "",
    "password": "secret",
}
MAX_DEPTH = 6


def _identity(schema: Any) -> Any:
    return schema


class Synthesizer:
    """Builds values for schemas; `resolve` follows `$ref`s, `is_valid` verifies candidates."""

    def __init__(
        self,
        resolve: Resolve | None = None,
        is_valid: Callable[[Any, Any], bool] | None = None,
        seed: str = "",
    ) -> None:
        self.resolve = resolve or _identity
        self.is_valid = is_valid
        self.seed = seed

    def value(self, schema: Any, path: str = "", depth: int = 0, variant: int = 0) -> Any:
        if self.is_valid is None:
            return self._value(schema, path, depth, variant)
        for v in range(variant, variant + 8):
            candidate = self._value(schema, path, depth, v)
            if self.is_valid(schema, candidate):
                return candidate
        return self._value(schema, path, depth, variant)

    def _uuid(self, path: str) -> str:
        return str(uuid.UUID(bytes=hashlib.sha256(f"{self.seed}|{path}".encode()).digest()[:16], version=4))

    def _value(self, schema: Any, path: str, depth: int, variant: int) -> Any:
        if depth > 4 * MAX_DEPTH:
            return self._minimal(self.resolve(schema) if isinstance(schema, dict) else schema, path, depth)
        if schema is True or schema is None:
            return {}
        if schema is False:
            return None
        if not isinstance(schema, dict):
            return None
        if "$ref" in schema:
            target = self.resolve({"$ref": schema["$ref"]})
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            if depth > MAX_DEPTH:
                return self._minimal(target, path, depth)
            merged = _merge([target, rest]) if rest and isinstance(target, dict) else target
            return self.value(merged, path, depth + 1, variant)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            options = schema["enum"]
            return options[variant % len(options)]
        if "examples" in schema and isinstance(schema["examples"], list) and schema["examples"] and variant == 0:
            return schema["examples"][0]
        if "example" in schema and variant == 0:
            return schema["example"]
        if "default" in schema and variant == 1:
            return schema["default"]
        if isinstance(schema.get("allOf"), list):
            parts = [self.resolve(s) if isinstance(s, dict) and "$ref" in s else s for s in schema["allOf"]]
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return self.value(_merge([rest, *[p for p in parts if isinstance(p, dict)]]), path, depth + 1, variant)
        for key in ("oneOf", "anyOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                rest = {k: v for k, v in schema.items() if k != key}
                if self.is_valid is None:
                    branch = options[variant % len(options)]
                    return self.value(_merge([rest, self.resolve(branch)]) if rest else branch, path, depth + 1, 0)
                for i in range(len(options)):
                    branch = options[(variant + i) % len(options)]
                    resolved = self.resolve(branch)
                    sub = _merge([rest, resolved]) if rest and isinstance(resolved, dict) else branch
                    for v in range(3):
                        candidate = self._value(sub, path, depth + 1, v)
                        if self.is_valid(schema, candidate):
                            return candidate
                branch = options[variant % len(options)]
                return self._value(branch, path, depth + 1, 0)
        types = schema.get("type")
        if isinstance(types, list):
            non_null = [t for t in types if t != "null"]
            if not non_null or depth > MAX_DEPTH:
                return None if "null" in types else self._typed(types[0], schema, path, depth, variant)
            kind = non_null[variant % len(non_null)]
        elif isinstance(types, str):
            kind = types
        else:
            kind = _guess_type(schema)
        return self._typed(kind, schema, path, depth, variant)

    def _minimal(self, schema: Any, path: str, depth: int) -> Any:
        if not isinstance(schema, dict):
            return None
        types = schema.get("type")
        if isinstance(types, list) and "null" in types:
            return None
        if schema.get("type") == "array" or "items" in schema:
            return []
        if schema.get("type") == "object" or "properties" in schema:
            return {name: None for name in schema.get("required") or []}
        return None

    def _typed(self, kind: str, schema: dict[str, Any], path: str, depth: int, variant: int) -> Any:
        if kind == "null":
            return None
        if kind == "boolean":
            return variant % 2 == 0
        if kind in ("integer", "number"):
            return _number(schema, kind == "integer", variant)
        if kind == "string":
            return self._string(schema, path, variant)
        if kind == "array":
            return self._array(schema, path, depth, variant)
        if kind == "object":
            return self._object(schema, path, depth, variant)
        return None

    def _string(self, schema: dict[str, Any], path: str, variant: int) -> str:
        fmt = schema.get("format")
        if fmt == "uuid":
            return self._uuid(f"{path}#{variant}")
        low = int(schema.get("minLength", 0) or 0)
        high = schema.get("maxLength")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            # Repeat the pattern's open-ended parts more until the string is long enough.
            candidates = [_from_regex(pattern, variant, extra) for extra in range(low + 1)]
            fitting = [c for c in candidates if c is not None and low <= len(c) <= (high if isinstance(high, int) else len(c))]
            if fitting or candidates[0] is not None:
                return (fitting or candidates)[0]  # type: ignore[return-value]
        plain = "string" if variant == 0 else f"string{variant}"
        text = _FORMAT_VALUES.get(fmt, plain) if isinstance(fmt, str) else plain
        if len(text) < low:
            text = text + "x" * (low - len(text))
        if isinstance(high, int) and len(text) > high:
            text = text[:high]
        return text

    def _array(self, schema: dict[str, Any], path: str, depth: int, variant: int) -> list[Any]:
        low = int(schema.get("minItems", 0) or 0)
        high = schema.get("maxItems")
        count = max(low, 0 if depth > 2 else 1)
        if isinstance(high, int):
            count = min(count, high)
        prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
        items = schema.get("items", {})
        result = []
        for i in range(max(count, len(prefix) if count else 0)):
            sub = prefix[i] if i < len(prefix) else items
            if sub is False:
                break
            result.append(self.value(sub, f"{path}/{i}", depth + 1, variant + i if schema.get("uniqueItems") else variant))
        return result

    def _object(self, schema: dict[str, Any], path: str, depth: int, variant: int) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = list(schema.get("required") or [])
        result: dict[str, Any] = {}
        shallow = depth <= 2
        for name, sub in properties.items():
            if access(sub, lambda ref: self.resolve({"$ref": ref})) == "writeOnly":
                continue  # a response should not carry it
            if name in required or (shallow and variant == 0):
                result[name] = self.value(sub, f"{path}/{name}", depth + 1, 0)
        for name in required:
            if name not in result and name not in properties:
                extra = schema.get("additionalProperties", {})
                result[name] = self.value(extra if isinstance(extra, dict) else {}, f"{path}/{name}", depth + 1, 0)
        low = int(schema.get("minProperties", 0) or 0)
        extra_schema = schema.get("additionalProperties", True)
        i = 0
        while len(result) < low and extra_schema is not False and i < low + 10:
            key = f"key{i}"
            if key not in result:
                result[key] = self.value(extra_schema if isinstance(extra_schema, dict) else {}, f"{path}/{key}", depth + 1, 0)
            i += 1
        return result


def _guess_type(schema: dict[str, Any]) -> str:
    if {"properties", "required", "additionalProperties", "patternProperties", "minProperties"} & set(schema):
        return "object"
    if {"items", "prefixItems", "minItems", "maxItems", "uniqueItems"} & set(schema):
        return "array"
    if {"minLength", "maxLength", "pattern", "format"} & set(schema):
        return "string"
    if {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"} & set(schema):
        return "number"
    return "object"  # any value will do; JSON APIs mostly exchange objects


def _bound(schema: dict[str, Any], inclusive: str, exclusive: str, pick: Callable[..., float]) -> tuple[float | None, bool]:
    """The tighter of an inclusive and an exclusive bound, and whether it is exclusive."""
    given = [
        (schema[key], key == exclusive)
        for key in (inclusive, exclusive)
        if isinstance(schema.get(key), (int, float)) and not isinstance(schema.get(key), bool)
    ]
    if not given:
        return None, False
    value = pick(v for v, _ in given)
    return value, any(v == value and is_open for v, is_open in given)


def _number(schema: dict[str, Any], integer: bool, variant: int) -> int | float:
    low, low_open = _bound(schema, "minimum", "exclusiveMinimum", max)
    high, high_open = _bound(schema, "maximum", "exclusiveMaximum", min)
    if integer:
        low = None if low is None else (math.floor(low) + 1 if low_open else math.ceil(low))
        high = None if high is None else (math.ceil(high) - 1 if high_open else math.floor(high))
        low_open = high_open = False
    if low is None and high is None:
        value: float = variant
    elif low is None:
        value = min(0, high - 1 if high_open else high)  # type: ignore[operator]
    elif high is None:
        value = low + 1 if low_open else low
    else:
        value = (low + high) / 2 if low_open or high_open else low
    if variant and (high is None or value + variant < high or (value + variant == high and not high_open)):
        value += variant
    step = schema.get("multipleOf")
    if isinstance(step, (int, float)) and step > 0:
        digits = max(0, -int(Decimal(str(step)).as_tuple().exponent))
        value = round(math.ceil(value / step) * step, digits)
        if high is not None and value > high:
            value = round(math.floor(high / step) * step, digits)
    if integer or float(value).is_integer():
        return int(value)
    return value


def _from_regex(pattern: str, variant: int, extra: int = 0) -> str | None:
    """A short string that `re.search(pattern, s)` matches, or None if none is found; `extra`
    more repetitions of each repeated part make it longer."""
    try:
        compiled = re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, Exception):  # noqa: BLE001
        return None
    try:
        text = _emit(parsed, variant, extra)
    except Exception:  # noqa: BLE001 - unusual constructs fall back to probing
        text = None
    if text is not None and compiled.search(text):
        return text
    for probe in ("", "a", "0", "aa", "a0", "A", "-", "_"):
        if compiled.search(probe):
            return probe
    return None


_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": "0",
    "CATEGORY_NOT_DIGIT": "a",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": "a",
    "CATEGORY_WORD": "a",
    "CATEGORY_NOT_WORD": "-",
}


def _emit(parsed: Any, variant: int, extra: int = 0) -> str:
    out = []
    for op, arg in parsed:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(arg) != "a" else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_from_set(arg))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = arg
            count = min(low + extra, high) if extra else low if low > 0 else (1 if variant and high else 0)
            out.append(_emit(sub, variant, extra) * count)
        elif name == "SUBPATTERN":
            out.append(_emit(arg[-1], variant, extra))
        elif name == "BRANCH":
            branches = arg[1]
            out.append(_emit(branches[variant % len(branches)], 0, extra))
        elif name in ("AT", "ASSERT", "ASSERT_NOT", "GROUPREF"):
            continue
        elif name == "CATEGORY":
            out.append(_CATEGORY_CHARS.get(str(arg), "a"))
        else:
            raise ValueError(name)
    return "".join(out)


def _from_set(items: Any) -> str:
    negate = False
    allowed: list[str] = []
    ranges: list[tuple[int, int]] = []
    excluded: set[str] = set()
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            allowed.append(chr(arg))
        elif name == "RANGE":
            ranges.append(arg)
        elif name == "CATEGORY":
            allowed.append(_CATEGORY_CHARS.get(str(arg), "a"))
    if negate:
        excluded = set(allowed) | {chr(c) for lo, hi in ranges for c in range(lo, min(hi, lo + 200) + 1)}
        for c in "aA0-_ xyz":
            if c not in excluded:
                return c
        return "~"
    if allowed:
        return allowed[0]
    if ranges:
        return chr(ranges[0][0])
    return "a"


def _merge(parts: list[Any]) -> dict[str, Any]:
    """A rough intersection of schemas, good enough to synthesize from (allOf, $ref siblings)."""
    merged: dict[str, Any] = {}
    for part in parts:
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                merged.setdefault("properties", {}).update(value)
            elif key == "required" and isinstance(value, list):
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            elif key in ("minimum", "minLength", "minItems", "minProperties", "exclusiveMinimum") and key in merged:
                merged[key] = max(merged[key], value)
            elif key in ("maximum", "maxLength", "maxItems", "maxProperties", "exclusiveMaximum") and key in merged:
                merged[key] = min(merged[key], value)
            elif key == "allOf" and isinstance(value, list):
                merged.setdefault("allOf", []).extend(value)
            else:
                merged[key] = value
    return merged


def synthesize(
    schema: Any,
    *,
    resolve: Resolve | None = None,
    is_valid: Callable[[Any, Any], bool] | None = None,
    seed: str = "",
) -> Any:
    """A deterministic value for `schema` (valid when `is_valid` is given and one is found)."""
    return Synthesizer(resolve, is_valid, seed).value(schema, path="")
