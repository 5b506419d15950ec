"""Deterministic example values synthesized from JSON Schemas (mock mode, error bodies).

`synthesize(schema)` returns the same value for the same schema and seed. In mock mode each
candidate is verified against the schema (by `jsonschema`, which mock mode may afford) and the
next variant is tried until one is valid.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..dialect import access
from ..patterns import PatternError, pattern

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


def _from_regex(source: str, variant: int, extra: int = 0) -> str | None:
    r"""A short string the ECMA-262 pattern `source` matches somewhere, or None if none is found;
    `extra` more repetitions of each repeated part make it longer.

    Candidates come from walking the pattern with Python's regex parser (after `_sre_syntax`
    respells what ECMA-262 writes differently); only regress decides which one matches."""
    try:
        compiled = pattern(source)
    except PatternError:
        return None
    candidates: list[str] = []
    with contextlib.suppress(Exception):  # unusual constructs fall back to probing
        parsed = sre_parse.parse(_sre_syntax(source, unicode=compiled.flags == "u"))
        # Lookaheads spelled out first (`(?=.*\d)` needs a digit somewhere), then without them.
        candidates = [_emit(parsed, variant, extra, lookahead) for lookahead in (True, False)]
    for text in (*candidates, "", "a", "0", "aa", "a0", "A", "-", "_"):
        if compiled.search(text):
            return text
    return None


# Characters standing for a Unicode property (`\p{...}`) while a pattern is walked: enough to
# produce a candidate, which regress then judges. Names per ECMA-262 (General_Category values,
# their long names, binary properties, and scripts).
_PROPERTY_CHARS: dict[str, str] = {
    **dict.fromkeys(("L", "Letter", "LC", "Cased_Letter", "Alphabetic", "Alpha", "Latin", "Latn", "ID_Start"), "a-zA-Z"),
    **dict.fromkeys(("Lu", "Uppercase_Letter", "Uppercase", "Upper"), "A-Z"),
    **dict.fromkeys(("Ll", "Lowercase_Letter", "Lowercase", "Lower"), "a-z"),
    **dict.fromkeys(("Lt", "Titlecase_Letter"), "\u01c5"),
    **dict.fromkeys(("Lm", "Modifier_Letter"), "\u02b0"),
    **dict.fromkeys(("Lo", "Other_Letter"), "\u00aa"),
    **dict.fromkeys(("N", "Number", "Nd", "Decimal_Number", "digit", "ASCII_Hex_Digit", "AHex", "Hex_Digit"), "0-9"),
    **dict.fromkeys(("Nl", "Letter_Number"), "\u2160"),
    **dict.fromkeys(("No", "Other_Number"), "\u00b2"),
    **dict.fromkeys(("Z", "Separator", "Zs", "Space_Separator", "White_Space", "space"), " "),
    **dict.fromkeys(("Zl", "Line_Separator"), "\u2028"),
    **dict.fromkeys(("Zp", "Paragraph_Separator"), "\u2029"),
    **dict.fromkeys(("P", "Punctuation", "punct", "Po", "Other_Punctuation"), "!"),
    **dict.fromkeys(("Pc", "Connector_Punctuation"), "_"),
    **dict.fromkeys(("Pd", "Dash_Punctuation", "Dash"), "\\-"),
    **dict.fromkeys(("Ps", "Open_Punctuation"), "("),
    **dict.fromkeys(("Pe", "Close_Punctuation"), ")"),
    **dict.fromkeys(("Pi", "Initial_Punctuation"), "\u00ab"),
    **dict.fromkeys(("Pf", "Final_Punctuation"), "\u00bb"),
    **dict.fromkeys(("S", "Symbol", "Sm", "Math_Symbol", "Math"), "+"),
    **dict.fromkeys(("Sc", "Currency_Symbol"), "$"),
    **dict.fromkeys(("Sk", "Modifier_Symbol"), "\\^"),
    **dict.fromkeys(("So", "Other_Symbol"), "\u00a9"),
    **dict.fromkeys(("M", "Mark", "Combining_Mark", "Mn", "Nonspacing_Mark"), "\u0300"),
    **dict.fromkeys(("Mc", "Spacing_Mark"), "\u0903"),
    **dict.fromkeys(("Me", "Enclosing_Mark"), "\u20dd"),
    **dict.fromkeys(("C", "Other", "Cc", "Control", "cntrl"), "\x01"),
    **dict.fromkeys(("Cf", "Format"), "\u00ad"),
    **dict.fromkeys(("Co", "Private_Use"), "\ue000"),
    **dict.fromkeys(("Cn", "Unassigned"), "\u0378"),
    **dict.fromkeys(("Greek", "Grek"), "\u03b1"),
    **dict.fromkeys(("Cyrillic", "Cyrl"), "\u0430"),
    **dict.fromkeys(("Han", "Hani"), "\u4e2d"),
    **dict.fromkeys(("Hiragana", "Hira"), "\u3042"),
    **dict.fromkeys(("Katakana", "Kana"), "\u30a2"),
    **dict.fromkeys(("Hangul", "Hang"), "\ud55c"),
    **dict.fromkeys(("Arabic", "Arab"), "\u0627"),
    **dict.fromkeys(("Hebrew", "Hebr"), "\u05d0"),
    **dict.fromkeys(("ASCII", "Any", "Assigned"), "a"),
}
_ECMA_ESCAPES = set("dDwWsSbBfnrtv")  # spelled alike in Python's re
_CLASS_ESCAPES = set("dDwWsS")


def _sre_syntax(source: str, unicode: bool) -> str:
    r"""`source` (ECMA-262, with the `u` flag or not) respelled for Python's regex parser, only to
    walk it for candidates: named groups `(?<n>`, `\k<n>`, `\p{..}`/`\P{..}`, `\u{..}`, `\cX`,
    identity escapes (`\_`, `\/`, `\a`), `[^]` and `[]`."""
    out: list[str] = []
    named = "(?<" in source.replace("(?<=", "").replace("(?<!", "")
    in_class = False
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "\\" and i + 1 < n:
            d = source[i + 1]
            i += 2
            if d in "pP" and unicode and i < n and source[i] == "{" and "}" in source[i:]:
                end = source.index("}", i)
                name = source[i + 1 : end].split("=")[-1]
                i = end + 1
                chars = _PROPERTY_CHARS.get(name, "a")
                if d == "P":
                    chars = "\u00e9" if name == "ASCII" else "0" if "a" in chars or "A" in chars else "a"
                out.append(chars if in_class else f"[{chars}]")
            elif d == "u" and unicode and i < n and source[i] == "{" and "}" in source[i:]:
                end = source.index("}", i)
                out.append(f"\\U{int(source[i + 1 : end], 16):08x}")
                i = end + 1
            elif d == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", source[i : i + 4]):
                high = int(source[i : i + 4], 16)
                low = re.fullmatch(r"\\u(d[c-f][0-9a-f]{2})", source[i + 4 : i + 10], re.IGNORECASE)
                if 0xD800 <= high < 0xDC00 and low:  # a surrogate pair is one code point
                    out.append(f"\\U{0x10000 + ((high - 0xD800) << 10) + int(low.group(1), 16) - 0xDC00:08x}")
                    i += 10
                else:
                    out.append("\\u" + source[i : i + 4])
                    i += 4
            elif d == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", source[i : i + 2]):
                out.append("\\x" + source[i : i + 2])
                i += 2
            elif d == "c" and i < n and source[i].isascii() and source[i].isalpha():
                out.append(f"\\x{ord(source[i]) % 32:02x}")
                i += 1
            elif d == "k" and named and i < n and source[i] == "<" and ">" in source[i:]:
                end = source.index(">", i)
                out.append(f"(?P={source[i + 1 : end]})")
                i = end + 1
            elif d in _CLASS_ESCAPES and in_class and source.startswith("-", i):
                out.append("\\" + d + "\\-")  # Annex B: `[\w-.]` is \w, "-" and "."
                i += 1
            elif d in _ECMA_ESCAPES or d.isdigit():
                out.append("\\" + d)
            else:  # an identity escape: the character itself
                out.append(re.escape(d))
            continue
        if in_class:
            if c == "]":
                in_class = False
                out.append(c)
            elif c == "-" and source[i + 1 : i + 2] == "\\" and source[i + 2 : i + 3] in _CLASS_ESCAPES:
                out.append("\\-")
            else:
                out.append(re.escape(c) if c in "[&~|" else c)
        elif c == "[":
            if source.startswith("[^]", i):
                out.append("[\\s\\S]")
                i += 3
                continue
            if source.startswith("[]", i):
                out.append("(?!)")
                i += 2
                continue
            in_class = True
            out.append(c)
            if source.startswith("[^", i):
                out.append("^")
                i += 1
        elif source.startswith("(?<", i) and not source.startswith(("(?<=", "(?<!"), i):
            out.append("(?P<")
            i += 3
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": "0",
    "CATEGORY_NOT_DIGIT": "a",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": "a",
    "CATEGORY_WORD": "a",
    "CATEGORY_NOT_WORD": "-",
}


def _emit(parsed: Any, variant: int, extra: int = 0, lookahead: bool = False, groups: dict[int, str] | None = None) -> str:
    """A string walked out of `parsed` (sre's parse); `groups` keeps each group's text for the
    backreferences to it."""
    groups = {} if groups is None else groups
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
            out.append(_emit(sub, variant, extra, lookahead, groups) * count)
        elif name == "SUBPATTERN":
            text = _emit(arg[-1], variant, extra, lookahead, groups)
            if arg[0] is not None:
                groups[arg[0]] = text
            out.append(text)
        elif name == "GROUPREF":
            out.append(groups.get(arg, ""))
        elif name == "BRANCH":
            branches = arg[1]
            out.append(_emit(branches[variant % len(branches)], 0, extra, lookahead, groups))
        elif name == "ASSERT" and lookahead and arg[0] == 1:
            out.append(_emit(arg[1], 0, 0, lookahead, groups))
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        elif name == "CATEGORY":
            out.append(_CATEGORY_CHARS.get(str(arg), "a"))
        else:
            raise ValueError(name)
    return "".join(out)


def _is_word(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


# What sre's categories hold, as ECMA-262 reads them (ASCII digits and words).
_CATEGORY_HOLDS: dict[str, Callable[[str], bool]] = {
    "CATEGORY_DIGIT": lambda c: c in "0123456789",
    "CATEGORY_NOT_DIGIT": lambda c: c not in "0123456789",
    "CATEGORY_SPACE": str.isspace,
    "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_WORD": _is_word,
    "CATEGORY_NOT_WORD": lambda c: not _is_word(c),
}
_OUTSIDERS = "aA0_- xyz~.\u00e9\u0100\u4e2d"  # tried in turn for a negated set


def _from_set(items: Any) -> str:
    """A character of a set: a letter or digit where the set has one; for a negated set, the
    first of _OUTSIDERS it does not hold."""
    negate = False
    chosen: list[str] = []  # a representative of each item
    ranges: list[tuple[int, int]] = []  # single characters as ranges of one
    categories: list[Callable[[str], bool]] = []
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            chosen.append(chr(arg))
            ranges.append((arg, arg))
        elif name == "RANGE":
            chosen.append(chr(arg[0]))
            ranges.append(arg)
        elif name == "CATEGORY":
            chosen.append(_CATEGORY_CHARS.get(str(arg), "a"))
            categories.append(_CATEGORY_HOLDS.get(str(arg), lambda c: False))
    if negate:
        for c in _OUTSIDERS:
            if not any(lo <= ord(c) <= hi for lo, hi in ranges) and not any(holds(c) for holds in categories):
                return c
        return "~"
    return next((c for c in chosen if c.isascii() and c.isalnum()), chosen[0] if chosen else "a")


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
