"""Deterministic example values synthesized from JSON Schemas (mock mode, error bodies).

`synthesize(schema)` returns the same value for the same schema and seed. Given `is_valid`
(mock mode verifies with `jsonschema`), `Synthesizer.find` looks for a value it accepts in up to
three attempts: as built (examples, optional properties near the top, one array item), then
verifying each part as it is built and trying other variants of the parts that fail, then the
smallest value (required properties only, `minItems` items, `null` where allowed). Every attempt
is bounded whatever the document: values nest at most `MAX_DEPTH` levels (recursive schemas
take their shortest way out, found once per document by `Shapes`), and a `Budget` caps the parts
built, the verifications and the wall time. The counts decide what is built, so the same schema
gives the same value on any machine; the wall time only ends what the counts let through.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .dialect import access
from .patterns import PatternError, pattern, sre_syntax

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
MAX_DEPTH = 24  # levels of arrays and objects a synthesized value nests, at most
RICH_DEPTH = 3  # above this depth, optional properties and one array item are included
MAX_STEPS = 64  # $ref, allOf, oneOf and anyOf steps taken at one depth before giving up there
MAX_PARTS = 256  # schemas one allOf tree (with its $refs) is flattened from, at most
VARIANTS = 8  # variants of a part tried when it fails verification
BRANCH_VARIANTS = 3  # variants of each oneOf/anyOf branch tried
DIFFER_DEPTH = 4  # levels down a oneOf branch is told apart from the others (`Synthesizer._differ`)
INFINITE = 1 << 30  # the height of a schema no finite value satisfies (as far as is known)
# Keywords a built value satisfies by construction once its parts are valid (checked shallowly).
_BUILT_RIGHT = frozenset(
    {
        "type",
        "properties",
        "required",
        "items",
        "title",
        "description",
        "$comment",
        "readOnly",
        "writeOnly",
        "deprecated",
        "xml",
        "externalDocs",
        "discriminator",
        "nullable",
        "$schema",
        "$id",
        "$anchor",
        "contentMediaType",
        "contentEncoding",
    }
)
_ANNOTATIONS = _BUILT_RIGHT - {"type", "properties", "required", "items"}
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "example", "examples"})


@dataclass(frozen=True)
class Budget:
    """What one synthesized value may cost, over all its attempts."""

    nodes: int = 20_000  # values built by one attempt (each scalar, array and object)
    checks: int = 2_000  # verifications by `is_valid`, all attempts together
    seconds: float = 1.0  # wall time, all attempts together: a last resort


class _TooDeep(Exception):
    """No value fits in the depth left (or the `$ref`/combinator steps went in circles)."""


class _OutOfBudget(Exception):
    """The attempt built more than its budget allows, or the time is up."""


_NOTHING: Any = object()


def _identity(schema: Any) -> Any:
    return schema


class Shapes:
    """What synthesis learns about a document's schemas, kept from one value to the next:
    each `$ref`/`allOf` tree flattened into one schema, each oneOf/anyOf branch merged with its
    siblings, what a built value still needs verified, and each schema's height (how deeply its
    smallest value nests: 0 for a scalar or an empty container, infinite when no finite value
    satisfies it). Heights of `$ref`s are solved together for everything a schema reaches, as
    the least fixed point (a recursive schema's way out is its shortest one)."""

    def __init__(self, resolve: Resolve | None = None) -> None:
        self.resolve = resolve or _identity
        # by id() of a schema, with the schema itself kept so that the id is never reused
        self._flat: dict[int, tuple[Any, dict[str, Any]]] = {}
        self._branches: dict[tuple[int, str, int], tuple[Any, Any]] = {}
        self._heights: dict[int, tuple[Any, int]] = {}
        self._shallow: dict[int, tuple[Any, Any]] = {}
        self._ref_heights: dict[str, int] = {}
        # Error bodies are synthesized on the event loop's thread, mock values on the mock's:
        # heights are solved by one thread at a time (a half-solved one is provisional).
        self._solving = threading.RLock()

    def target(self, ref: str) -> Any:
        try:
            return self.resolve({"$ref": ref})
        except Exception:  # noqa: BLE001 - an unresolvable reference allows no value
            return False

    def flat(self, schema: dict[str, Any]) -> dict[str, Any]:
        """`schema` with its `$ref` and `allOf` (transitively, each schema once) merged in."""
        hit = self._flat.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        parts: list[dict[str, Any]] = []
        self._parts(schema, set(), parts, 0)
        merged = _merge(parts)
        self._flat[id(schema)] = (schema, merged)
        return merged

    def _parts(self, node: Any, seen: set[int], out: list[Any], steps: int) -> None:
        if steps > MAX_STEPS or len(out) >= MAX_PARTS:
            return
        if node is False:
            out.append({"not": {}})
            return
        if not isinstance(node, dict) or id(node) in seen:
            return
        seen.add(id(node))
        ref = node.get("$ref")
        if isinstance(ref, str):
            self._parts(self.target(ref), seen, out, steps + 1)
        own = {k: v for k, v in node.items() if k not in ("$ref", "allOf")}
        if own:
            out.append(own)
        parts = node.get("allOf")
        for part in parts if isinstance(parts, list) else ():
            self._parts(part, seen, out, steps + 1)

    def branch(self, schema: dict[str, Any], key: str, index: int) -> Any:
        """Branch `index` of `schema[key]` (oneOf/anyOf) with the keywords beside it."""
        hit = self._branches.get((id(schema), key, index))
        if hit is not None and hit[0] is schema:
            return hit[1]
        option = schema[key][index]
        # Examples and defaults of the whole were tried before choosing a branch.
        rest = {k: v for k, v in schema.items() if k != key and k not in ("example", "examples", "default")}
        merged = {"allOf": [rest, option]} if any(k not in _ANNOTATIONS for k in rest) else option
        self._branches[(id(schema), key, index)] = (schema, merged)
        return merged

    def to_verify(self, schema: dict[str, Any]) -> Any:
        """What a value built for `schema` (neither a `$ref`, an `allOf` nor a choice) still
        needs checked once its parts are valid: `schema` with its parts' schemas as `true`;
        None when construction alone satisfies it."""
        hit = self._shallow.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        if all(k in _BUILT_RIGHT or k.startswith("x-") for k in schema) or (
            schema.get("format") in _FORMAT_VALUES
            and all(k in _BUILT_RIGHT or k == "format" or k.startswith("x-") for k in schema)
        ):
            shallow: Any = None
        elif any(k in schema for k in ("unevaluatedProperties", "unevaluatedItems")):
            shallow = schema  # what they allow depends on the parts: checked whole
        else:
            shallow = dict(schema)
            for key in ("properties", "patternProperties"):
                if isinstance(schema.get(key), dict):
                    shallow[key] = {name: True for name in schema[key]}
            for key in ("items", "additionalProperties"):
                if isinstance(schema.get(key), dict):
                    shallow[key] = True
            if isinstance(schema.get("prefixItems"), list):
                shallow["prefixItems"] = [True] * len(schema["prefixItems"])
        self._shallow[id(schema)] = (schema, shallow)
        return shallow

    # -- heights ---------------------------------------------------------------------------
    def height(self, schema: Any) -> int:
        """How many levels below it the smallest value of `schema` nests (INFINITE: none)."""
        if not isinstance(schema, dict):
            return INFINITE if schema is False else 0
        hit = self._heights.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        with self._solving:
            self._solve(schema)
            found = self._eval(schema, 0, {})
        self._heights[id(schema)] = (schema, found)
        return found

    def kind_height(self, schema: dict[str, Any], kind: str) -> int:
        """The height of the smallest value of `schema` of JSON type `kind`."""
        if kind not in ("object", "array"):
            return 0
        with self._solving:
            self._solve(schema)
            return self._object_height(schema, 0, {}) if kind == "object" else self._array_height(schema, 0, {})

    def _solve(self, schema: Any) -> None:
        """Find the heights of the `$ref`s `schema` reaches that are not known yet."""
        pending: list[tuple[str, Any]] = []
        stack = _refs(schema)
        while stack:
            ref = stack.pop()
            if ref in self._ref_heights:
                continue
            self._ref_heights[ref] = INFINITE
            target = self.target(ref)
            pending.append((ref, target))
            stack.extend(_refs(target))
        # The last found reach nothing new: evaluated first, most heights settle in one round.
        pending.reverse()
        for _ in range(len(pending) + 1):
            changed = False
            for ref, target in pending:
                found = self._eval(target, 0, {})
                if found < self._ref_heights[ref]:
                    self._ref_heights[ref] = found
                    changed = True
            if not changed:
                break

    def _eval(self, schema: Any, level: int, known: dict[int, tuple[Any, int]]) -> int:
        """The height of `schema` with the `$ref` heights as they stand; `known` holds those of
        the inline schemas already evaluated in this evaluation (each is evaluated once)."""
        hit = known.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        found = self._evaluated(schema, level, known)
        known[id(schema)] = (schema, found)
        return found

    def _evaluated(self, schema: Any, level: int, known: dict[int, tuple[Any, int]]) -> int:
        if not isinstance(schema, dict):
            return INFINITE if schema is False else 0
        if level > 2 * MAX_STEPS:
            return INFINITE
        if "const" in schema or (isinstance(schema.get("enum"), list) and schema["enum"]):
            return 0
        found = 0
        ref = schema.get("$ref")
        if isinstance(ref, str):
            found = self._ref_heights.get(ref, INFINITE)
        for part in schema.get("allOf") if isinstance(schema.get("allOf"), list) else ():
            found = max(found, self._eval(part, level + 1, known))
        for key in ("oneOf", "anyOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                found = max(found, min(self._eval(option, level + 1, known) for option in options))
        types = schema.get("type")
        if isinstance(types, str):
            kinds = [types]
        elif isinstance(types, list) and types:
            kinds = [t for t in types if isinstance(t, str)]
        elif any(k in schema for k in ("$ref", "allOf", "oneOf", "anyOf")):
            kinds = []  # the referenced or combined schemas decide
        else:
            kinds = [_guess_type(schema)]
        if kinds:
            own = INFINITE
            for kind in kinds:
                if kind == "object":
                    own = min(own, self._object_height(schema, level, known))
                elif kind == "array":
                    own = min(own, self._array_height(schema, level, known))
                else:
                    own = 0
            found = max(found, own)
        return min(found, INFINITE)

    def _object_height(self, schema: dict[str, Any], level: int, known: dict[int, tuple[Any, int]]) -> int:
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        extra = schema.get("additionalProperties", {})
        required = [n for n in schema.get("required") or [] if isinstance(n, str)]
        below = [self._eval(properties.get(name, extra), level + 1, known) for name in required]
        low = schema.get("minProperties")
        if isinstance(low, int) and low > len(required):
            below.append(self._eval(extra, level + 1, known))
        return min(1 + max(below), INFINITE) if below else 0

    def _array_height(self, schema: dict[str, Any], level: int, known: dict[int, tuple[Any, int]]) -> int:
        low = schema.get("minItems")
        if not isinstance(low, int) or low <= 0:
            return 0
        prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
        below = [self._eval(sub, level + 1, known) for sub in prefix[:low]]
        if low > len(prefix):
            below.append(self._eval(schema.get("items", {}), level + 1, known))
        return min(1 + max(below), INFINITE)


def _refs(schema: Any) -> list[str]:
    """The `$ref`s inside `schema`, not following them (examples and enums are data)."""
    found: list[str] = []
    stack = [schema]
    seen: set[int] = set()  # a part shared by several (YAML aliases) is walked once
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                found.append(ref)
            stack.extend(v for k, v in node.items() if k not in _DATA_KEYWORDS and isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return found


def _given(schema: dict[str, Any], variant: int) -> Any:
    """The spec's own value for a variant: the first example (variant 0), the default (1)."""
    if variant == 0:
        if isinstance(schema.get("examples"), list) and schema["examples"]:
            return schema["examples"][0]
        if "example" in schema:
            return schema["example"]
    if variant == 1 and "default" in schema:
        return schema["default"]
    return _NOTHING


class Synthesizer:
    """Builds values for schemas; `resolve` follows `$ref`s, `is_valid` verifies candidates."""

    def __init__(
        self,
        resolve: Resolve | None = None,
        is_valid: Callable[[Any, Any], bool] | None = None,
        seed: str = "",
        *,
        budget: Budget | None = None,
        shapes: Shapes | None = None,
    ) -> None:
        self.resolve = resolve or _identity
        self.is_valid = is_valid
        self.seed = seed
        self.budget = budget or Budget()
        self.shapes = shapes if shapes is not None else Shapes(self.resolve)
        self.checks = 0
        self.deadline = math.inf
        self.expired = False
        # the attempt under way
        self.careful = False
        self.minimal = False
        self.nodes = 0
        self.memo: dict[tuple[int, str, int, int], tuple[Any, Any]] = {}
        self.differing = False  # building a part of a oneOf branch to tell it apart (`_part`)

    def find(self, schema: Any, variant: int = 0) -> tuple[Any, bool]:
        """A value for `schema`, and whether it is known valid: `is_valid` accepted it (without
        `is_valid`: it was built whole). Not valid, the value is the last attempt's, or None.
        Another `variant` starts from other choices (enum members, alternatives, types)."""
        self.deadline = time.monotonic() + self.budget.seconds
        attempts = ((False, False), (True, False), (True, True)) if self.is_valid else ((False, False), (False, True))
        found: Any = None
        for careful, minimal in attempts:
            self.careful, self.minimal, self.nodes, self.memo = careful, minimal, 0, {}
            try:
                candidate = self._value(schema, "", 0, variant, 0)
            except _TooDeep:
                continue
            except _OutOfBudget:
                if self.expired:
                    break
                continue
            finally:
                self.memo = {}
            if self.is_valid is None:
                return candidate, True
            self.checks += 1
            if self.is_valid(schema, candidate):
                return candidate, True
            found = candidate
        return found, False

    # -- budget ----------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.nodes >= self.budget.nodes:
            raise _OutOfBudget
        self.nodes += 1
        if not self.nodes & 63 and time.monotonic() > self.deadline:
            self.expired = True
            raise _OutOfBudget

    def _verify(self, schema: Any, value: Any) -> bool:
        """Whether `is_valid` accepts `value`; True (trusted as built) once checks run out."""
        if self.is_valid is None or self.checks >= self.budget.checks:
            return True
        if time.monotonic() > self.deadline:
            self.expired = True
            raise _OutOfBudget
        self.checks += 1
        return self.is_valid(schema, value)

    # -- building --------------------------------------------------------------------------
    def _value(self, schema: Any, path: str, depth: int, variant: int, steps: int) -> Any:
        """A value of `schema` at `path`, `depth` levels down, after `steps` steps at that depth."""
        if not self.careful:
            return self._build(schema, path, depth, variant, steps)
        # Careful: each part is built (and verified) once per variant, however often asked for.
        key = (id(schema), path, depth, variant)
        hit = self.memo.get(key)
        if hit is not None and hit[0] is schema:
            if hit[1] is _TooDeep:
                raise _TooDeep
            return hit[1]
        try:
            value = self._verified(schema, path, depth, variant, steps)
        except _TooDeep:
            self.memo[key] = (schema, _TooDeep)
            raise
        self.memo[key] = (schema, value)
        return value

    def _verified(self, schema: Any, path: str, depth: int, variant: int, steps: int) -> Any:
        """The first variant of this part that verifies (what is left to verify of it once its
        own parts are verified), else the first built."""
        if not isinstance(schema, dict) or "$ref" in schema or "allOf" in schema:
            return self._build(schema, path, depth, variant, steps)  # the flattened schema verifies
        first = _NOTHING
        for v in range(variant, variant + VARIANTS):
            candidate = self._build(schema, path, depth, v, steps)
            if first is _NOTHING:
                first = candidate
            if not self.minimal and _given(schema, v) is not _NOTHING:
                if self._verify(schema, candidate):  # the spec's example: checked whole
                    return candidate
                continue
            if "oneOf" in schema or "anyOf" in schema:
                return candidate  # the choice verified it
            left = self.shapes.to_verify(schema)
            if left is None or self._verify(left, candidate):
                return candidate
        return first

    def _build(self, schema: Any, path: str, depth: int, variant: int, steps: int) -> Any:
        self._tick()
        if depth > MAX_DEPTH or steps > MAX_STEPS:
            raise _TooDeep
        if schema is True or schema is None:
            return {}
        if not isinstance(schema, dict):
            return None  # `false`: no value is valid
        if "$ref" in schema or isinstance(schema.get("allOf"), list):
            return self._value(self.shapes.flat(schema), path, depth, variant, steps + 1)
        if "const" in schema:
            return schema["const"]
        options = schema.get("enum")
        if isinstance(options, list) and options:
            return options[variant % len(options)]
        if not self.minimal:
            given = _given(schema, variant)
            if given is not _NOTHING:
                return given
        for key in ("oneOf", "anyOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return self._choose(schema, key, path, depth, variant, steps)
        return self._typed(self._kind(schema, depth, variant), schema, path, depth, variant)

    def _choose(self, schema: dict[str, Any], key: str, path: str, depth: int, variant: int, steps: int) -> Any:
        """A value of one branch that the whole accepts (oneOf: that branch alone): branches in
        turn from `variant` near the top, smallest first further down; none that cannot fit."""
        count = len(schema[key])
        order = [(variant + i) % count for i in range(count)]
        heights = {i: self.shapes.height(self.shapes.branch(schema, key, i)) for i in order}
        fitting = [i for i in order if depth + heights[i] <= MAX_DEPTH]
        if self.minimal or depth >= RICH_DEPTH:
            fitting.sort(key=lambda i: heights[i])  # stable: ties keep their turn
        tries = BRANCH_VARIANTS if self.is_valid is not None else 1
        first = _NOTHING
        for i in fitting:
            branch = self.shapes.branch(schema, key, i)
            for v in range(tries):
                try:
                    candidate = self._value(branch, path, depth, v, steps + 1)
                except _TooDeep:
                    break
                if first is _NOTHING:
                    first = candidate
                if self._verify(schema, candidate):
                    return candidate
                apart = self._apart(schema, key, i, candidate) if key == "oneOf" and not self.differing else _NOTHING
                if apart is not _NOTHING and self._verify(schema, apart):
                    return apart
        if first is _NOTHING:
            raise _TooDeep
        return first

    def _apart(self, schema: dict[str, Any], key: str, index: int, candidate: Any) -> Any:
        """`candidate` (a value of branch `index`) changed so that the other branches refuse
        it: a oneOf of objects whose properties are all optional accepts `{}` under every
        branch, and two branches that differ only in what an array's items may hold accept
        the same objects until one holds an item only one accepts. `_NOTHING` when no such
        change is found (the caller verifies the result whole)."""
        mine = self.shapes.branch(schema, key, index)
        value = candidate
        for other in range(len(schema[key])):
            if other == index:
                continue
            changed = self._differ(mine, self.shapes.branch(schema, key, other), value, 0)
            if changed is not _NOTHING:
                value = changed
        return value if value is not candidate else _NOTHING

    def _differ(self, mine: Any, theirs: Any, value: Any, depth: int) -> Any:
        """`value` (of `mine`) with one change `theirs` refuses: a property only `theirs`
        declares, set to a value of a type it refuses there; else, where both declare a
        property (or both have array items), the same one level down. `_NOTHING` if none."""
        if depth > DIFFER_DEPTH or not isinstance(mine, dict) or not isinstance(theirs, dict):
            return _NOTHING
        mine, theirs = self.shapes.flat(mine), self.shapes.flat(theirs)
        if isinstance(value, dict):
            declared = mine.get("properties") if isinstance(mine.get("properties"), dict) else {}
            others = theirs.get("properties") if isinstance(theirs.get("properties"), dict) else {}
            closed = mine.get("additionalProperties") is False or "unevaluatedProperties" in mine or "patternProperties" in mine
            for name, prop in others.items() if not closed else ():
                if name not in declared and name not in value:
                    wrong = _refused(self.shapes.flat(prop) if isinstance(prop, dict) else prop)
                    if wrong is not _NOTHING:
                        return {**value, name: wrong}
            for name, prop in others.items():
                if name not in declared or declared[name] is prop:
                    continue
                inner = value.get(name, _NOTHING)
                if inner is _NOTHING:
                    inner = self._part(declared[name], depth)
                changed = self._differ(declared[name], prop, inner, depth + 1)
                if changed is not _NOTHING:
                    return {**value, name: changed}
        elif isinstance(value, list) and mine.get("items") is not theirs.get("items"):
            if isinstance(mine.get("maxItems"), int) and mine["maxItems"] < 1:
                return _NOTHING
            item = value[0] if value else self._part(mine.get("items", True), depth)
            changed = self._differ(mine.get("items"), theirs.get("items"), item, depth + 1)
            if changed is not _NOTHING:
                return [changed, *value[1:]]
        return _NOTHING

    def _part(self, schema: Any, depth: int) -> Any:
        """A value of `schema` to change further down (`_NOTHING` when none fits); oneOfs in it
        are not told apart in turn (that would recurse without end)."""
        self.differing = True
        try:
            return self._value(schema, "", depth, 0, 0)
        except _TooDeep:
            return _NOTHING
        finally:
            self.differing = False

    def _kind(self, schema: dict[str, Any], depth: int, variant: int) -> str:
        """The JSON type to build: in turn from `variant` (null last; first when smallest is
        wanted), of those whose smallest value fits in the depth left."""
        types = schema.get("type")
        if isinstance(types, str):
            return types
        if not isinstance(types, list) or not types:
            return _guess_type(schema)
        kinds = [t for t in types if isinstance(t, str)]
        others = [t for t in kinds if t != "null"]
        others = others[variant % len(others) :] + others[: variant % len(others)] if others else []
        nulls = ["null"] if "null" in kinds else []
        for kind in [*nulls, *others] if self.minimal else [*others, *nulls]:
            if depth + self.shapes.kind_height(schema, kind) <= MAX_DEPTH:
                return kind
        raise _TooDeep

    def _uuid(self, path: str) -> str:
        return str(uuid.UUID(bytes=hashlib.sha256(f"{self.seed}|{path}".encode()).digest()[:16], version=4))

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

    def _fits(self, schema: Any, depth: int) -> bool:
        return depth + self.shapes.height(schema) <= MAX_DEPTH

    def _array(self, schema: dict[str, Any], path: str, depth: int, variant: int) -> list[Any]:
        low = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 0
        high = schema.get("maxItems")
        count = max(low, 1 if depth < RICH_DEPTH and not self.minimal else 0)
        if isinstance(high, int):
            count = min(count, high)
        prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
        items = schema.get("items", {})
        result = []
        for i in range(max(count, len(prefix) if count else 0)):
            sub = prefix[i] if i < len(prefix) else items
            if sub is False:
                break
            needed = i < low
            if not needed and not self._fits(sub, depth + 1):
                break
            item_variant = variant + i if schema.get("uniqueItems") else variant
            try:
                result.append(self._value(sub, f"{path}/{i}", depth + 1, item_variant, 0))
            except _TooDeep:
                if needed:
                    raise
                break
        return result

    def _object(self, schema: dict[str, Any], path: str, depth: int, variant: int) -> dict[str, Any]:
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = [name for name in dict.fromkeys(schema.get("required") or []) if isinstance(name, str)]
        wanted = set(required)
        rich = depth < RICH_DEPTH and variant == 0 and not self.minimal
        result: dict[str, Any] = {}
        for name, sub in properties.items():
            if access(sub, lambda ref: self.resolve({"$ref": ref})) == "writeOnly":
                continue  # a response should not carry it
            if name in wanted:
                result[name] = self._value(sub, f"{path}/{name}", depth + 1, 0, 0)
            elif rich and self._fits(sub, depth + 1):
                try:
                    result[name] = self._value(sub, f"{path}/{name}", depth + 1, 0, 0)
                except _TooDeep:
                    pass  # optional: left out
        extra = schema.get("additionalProperties", True)
        extra_schema = extra if isinstance(extra, dict) else {}
        for name in required:
            if name not in result and name not in properties:
                result[name] = self._value(extra_schema, f"{path}/{name}", depth + 1, 0, 0)
        low = schema.get("minProperties") if isinstance(schema.get("minProperties"), int) else 0
        i = 0
        while len(result) < low and extra is not False and i < low + 10:
            key = f"key{i}"
            if key not in result:
                result[key] = self._value(extra_schema, f"{path}/{key}", depth + 1, 0, 0)
            i += 1
        return result


def _refused(schema: Any) -> Any:
    """A small value of a JSON type `schema` does not allow, or `_NOTHING`."""
    if not isinstance(schema, dict):
        return _NOTHING
    allowed = set(_type_list(schema.get("type")))
    if "integer" in allowed:
        allowed.add("number")
    # (the JSON type of the value, the value): a number where the schema wants none, else text
    for kind, value in (("number", 0), ("string", "0"), ("boolean", False)):
        if allowed and kind not in allowed:
            return value
    if isinstance(schema.get("enum"), list) and "" not in schema["enum"]:
        return ""
    return _NOTHING


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

    Candidates come from walking the pattern with Python's regex parser (after `sre_syntax`
    respells what ECMA-262 writes differently); only regress decides which one matches."""
    try:
        compiled = pattern(source)
    except PatternError:
        return None
    candidates: list[str] = []
    with contextlib.suppress(Exception):  # unusual constructs fall back to probing
        parsed = sre_parse.parse(sre_syntax(source, unicode=compiled.flags == "u"))
        # Lookaheads spelled out first (`(?=.*\d)` needs a digit somewhere), then without them.
        candidates = [_emit(parsed, variant, extra, lookahead) for lookahead in (True, False)]
    for text in (*candidates, "", "a", "0", "aa", "a0", "A", "-", "_"):
        if compiled.search(text):
            return text
    return None


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



_NUMERIC = ("integer", "number")


def _type_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def _both_types(one: Any, two: Any) -> Any:
    """The types both `type` keywords allow (integer is a number)."""
    first, second = _type_list(one), _type_list(two)
    both = [t for t in first if t in second or (t == "integer" and "number" in second)]
    both += [t for t in second if t == "integer" and "number" in first and t not in both]
    if not both:
        return two  # contradictory: no value will do, whichever is kept
    return both[0] if len(both) == 1 else both


def _merge(parts: list[Any]) -> dict[str, Any]:
    """A rough intersection of schemas, good enough to synthesize from (allOf, $ref siblings):
    a property named by several parts gets all their schemas (`allOf`), types are intersected,
    bounds tightened, `required` joined; for other keywords the last part wins."""
    merged: dict[str, Any] = {}
    for part in parts:
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                properties = merged.setdefault("properties", {})
                for name, sub in value.items():
                    known = properties.get(name)
                    properties[name] = sub if known is None or known is sub else {"allOf": [known, sub]}
            elif key == "required" and isinstance(value, list):
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            elif key == "type" and key in merged:
                merged[key] = _both_types(merged[key], value)
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
    budget: Budget | None = None,
    shapes: Shapes | None = None,
) -> Any:
    """A deterministic value for `schema`: one `is_valid` accepts when it is given and such a
    value is found within `budget`; otherwise the best attempt (None if none could be built)."""
    return Synthesizer(resolve, is_valid, seed, budget=budget, shapes=shapes).find(schema)[0]
