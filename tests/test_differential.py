"""Differential tier: generated models accept exactly what a JSON Schema 2020-12 validator accepts.

For every schema that gets a model (components, synthesized inline schemas, operation arguments,
type aliases and enums), instances are drawn with hypothesis-jsonschema from the schema and from
its negation, then near misses of the valid ones are added (a property dropped, set to null or
retyped, a number given as a string, an integer as 1.0, format look-alikes, alternatives merged).
Each instance is judged by the generated model and by the reference validator (`jsonschema`'s
Draft202012Validator with format checking and ECMA-262 patterns by regress, conftest), over the
same document the generator compiles (`resolution_document`); the two must agree on every
instance but for two deliberate differences, named below (`TYPELESS`, and readOnly/writeOnly
required properties that models built in code waive). Generation is derandomized, so a run is
reproducible.
"""

from __future__ import annotations

import contextlib
import copy
import json
import keyword
import random
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import SPEC, SPECS, generate_package, import_package, reference_validator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

POSITIVE = 4  # instances drawn from each schema
NEGATIVE = 2  # instances drawn from its negation
MERGED = 6  # valid instances of different alternatives merged, per schema
NEAR_MISSES = 40  # near misses kept per schema of spec/
FIXTURE_NEAR_MISSES = 150  # and per schema of the fixture specs, which are few and small
MIN_SPEC_INSTANCES = 5000

UUID_TEXT = str(uuid.UUID(int=0x1234_5678_9ABC_DEF0_1234_5678_9ABC_DEF0))
# Strings that look like a format but are not one, or are one in a form Pydantic reads differently.
FORMAT_TRICKS: dict[str, list[Any]] = {
    "uuid": [
        UUID_TEXT.upper(),
        UUID_TEXT.replace("-", ""),
        "{" + UUID_TEXT + "}",
        "urn:uuid:" + UUID_TEXT,
        UUID_TEXT[:-1] + "_" + UUID_TEXT[-1],
        " " + UUID_TEXT[1:],
        UUID_TEXT + "\n",
        UUID_TEXT[:-1] + "}",
        "1",
    ],
    "date-time": [
        "1",
        "1700000000",
        "2024-01-01",
        "2024-01-01T00:00:00",
        "2024-01-01t00:00:00z",
        "2024-01-01 00:00:00Z",
        "2024-01-01T00:00:00Z\n",
        "2024-01-01T23:59:60Z",
        "2024-02-30T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+00:01",
        "2024-01-01T00:00:00.123456789Z",
        "2024-01-01T00:00:00+24:00",
    ],
    "date": ["2024-02-29", "2023-02-29", "2024-1-1", "20240101", "2024-01-01T00:00:00Z", "2024-01-01\n", "0000-01-01", "1"],
    "email": ["a@b", "@", "plain", "a@@b"],
    "uri": ["https://example.com/x?y#z", "urn:isbn:0451450523", "example.com", "/relative", "http://[::1]", "ht tp://x"],
}
EASTERN_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
NUMBER_TRICKS: list[Any] = [1e300, 2.0, -0.0, 0.5, 2**63, -(2**63) - 1, 10**30, 10**400, -(10**400), 1.5e-300]
OTHER_TYPE: dict[type, list[Any]] = {
    str: [7, True, ["x"]],
    bool: ["true", 1, 0],
    int: ["1", True, 1.5],
    float: ["1.5", False],
    list: [{}, "[]"],
    dict: [[], "{}"],
    type(None): [0, "", False],
}


# The one place codegen's verdict differs from JSON Schema's by design (README, "Schemas"): a
# schema with `properties` and no `type` is read as an object, as its model (a class) is. JSON
# Schema lets any non-object through it; the generated check refuses one with this message. A
# disagreement is allowed only when it is exactly that: the reference accepts, the model's check
# refuses with this message, and the reference over the document read that way refuses too.
TYPELESS = "the schema has properties but no type; codegen reads it as an object"
# The second deliberate difference (README): a model built in code needs neither its readOnly
# nor its writeOnly required properties (requests waive the first, responses the second). An
# instance a model accepts and the reference refuses is this difference when the reference
# accepts it over the document whose `required` lists waive both (`for_direction(..., "")`).


# Keywords that change nothing about which instances are drawn.
IGNORED_TO_DRAW = {"$ref", "title", "description", "discriminator", "examples", "example", "default", "deprecated", "readOnly", "writeOnly", "$comment"}


@dataclass
class Subject:
    """One schema, the model standing for it, and the reference validator."""

    name: str
    refusal: Callable[[Any], str | None]  # the model's error, None when it accepts
    reference: Any  # jsonschema validator
    schema: Any  # the schema as in the resolution document (2020-12)
    read_as_objects: Any  # the reference over the document with the `TYPELESS` reading
    built: Any  # the reference over the document as models built in code read it (readOnly, writeOnly)

    def judge(self, instance: Any, validator: Any = None) -> bool | None:
        """The reference's verdict; None when it cannot judge (its float multipleOf overflows
        on huge integers; regress cannot take a lone surrogate under a pattern)."""
        try:
            return bool((validator or self.reference).is_valid(copy.deepcopy(instance)))
        except (OverflowError, UnicodeEncodeError):
            return None

    def accepts(self, instance: Any) -> bool:
        return self.refusal(instance) is None


@dataclass
class Tally:
    instances: int = 0
    valid: int = 0
    typeless: int = 0  # disagreements that are the `TYPELESS` reading, and only that
    access: int = 0  # instances lacking only readOnly or writeOnly required properties
    disagreements: list[str] = field(default_factory=list)


# -- the two judges ----------------------------------------------------------------------------------
def subjects(api: Any, models: Any) -> list[Subject]:
    """A Subject for every schema of `api` that has a model, alias or enum in `models`."""
    from codegen.render import Renderer
    from codegen.render.models import component_pointer, render_models
    from codegen.runtime.dialect import for_direction, read_as_objects
    from pydantic import BaseModel, TypeAdapter, ValidationError
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = Renderer(api, "spec").resolution_document()
    # The class or alias of each schema: its own name, else the one standing for its pointer
    # (`Date` for a schema named `date`, `Date1` for one named `Date` beside it).
    rendered = render_models(api.model_schemas, api.title)
    registries = {
        uri: Registry().with_resource(uri, Resource.from_contents(doc, default_specification=DRAFT202012))
        for uri, doc in (
            ("urn:codegen:spec", document),
            ("urn:codegen:objects", read_as_objects(document)),
            ("urn:codegen:built", for_direction(document, "")),
        )
    }
    found = []
    for name, schema in api.model_schemas.items():
        pointer = component_pointer(name)
        class_name = name if rendered.pointers.get(name) == pointer else rendered.by_pointer.get(pointer, name)
        target = getattr(models, class_name)
        if isinstance(target, type) and issubclass(target, BaseModel):
            validate: Callable[[Any], Any] = target.model_validate
            types = schema.get("type") if isinstance(schema, dict) else None
            if isinstance(types, list) and "null" in types:
                # A class is never null: where such a schema is used, its type is `X | None`.
                validate = TypeAdapter(target | None).validate_python
        else:
            validate = models.ADAPTERS[class_name].validate_python

        def refusal(instance: Any, validate: Callable[[Any], Any] = validate) -> str | None:
            try:
                validate(instance)
            except ValidationError as error:
                return str(error)
            return None

        reference, objects, built = (reference_validator({"$ref": f"{uri}#{pointer}"}, registry=registry) for uri, registry in registries.items())
        found.append(Subject(name, refusal, reference, schema, objects, built))
    return found


# -- drawing instances ---------------------------------------------------------------------------------
class Inliner:
    """Schemas without `$ref` (recursion cut at a fixed depth) in the dialect hypothesis-jsonschema
    draws from (draft 7: `items` lists, `dependencies`); only used to draw, never to judge."""

    DEPTH = 2

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def resolve(self, ref: str) -> Any:
        from codegen.errors import ref_pointer, split_pointer

        node: Any = self.document
        for token in split_pointer(ref_pointer(ref)):
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    @staticmethod
    def small(node: dict[str, Any]) -> None:
        """Keep drawn objects and arrays small (free-form JSON would otherwise grow large)."""
        required = node.get("required") if isinstance(node.get("required"), list) else []
        room = len(required) + 3
        node["maxProperties"] = min(node.get("maxProperties", room), max(room, node.get("minProperties", 0)))
        node["maxItems"] = min(node.get("maxItems", 3), max(3, node.get("minItems", 0)))

    def inline(self, schema: Any, seen: tuple[str, ...] = ()) -> Any:
        if not isinstance(schema, dict):
            return schema
        node = {k: v for k, v in schema.items() if k not in IGNORED_TO_DRAW}
        ref = schema.get("$ref")
        target: Any = None
        if isinstance(ref, str):
            target = False if seen.count(ref) >= self.DEPTH else self.inline(self.resolve(ref), (*seen, ref))
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "patternProperties":
                out[key] = {drawable_pattern(k): self.inline(v, seen) for k, v in value.items()}
            elif key in ("properties", "dependentSchemas"):
                out[key] = {k: self.inline(v, seen) for k, v in value.items()}
            elif key == "pattern" and isinstance(value, str):
                out[key] = drawable_pattern(value)
            elif key in ("allOf", "anyOf", "oneOf"):
                out[key] = [self.inline(v, seen) for v in value]
            elif key in ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"):
                out[key] = self.inline(value, seen)
            elif key == "prefixItems":
                continue
            else:
                out[key] = value
        if "prefixItems" in node:
            out["items"] = [self.inline(v, seen) for v in node["prefixItems"]]
            if "items" in node:
                out["additionalItems"] = self.inline(node["items"], seen)
        if "dependentRequired" in out:
            out["dependencies"] = out.pop("dependentRequired")
        if target is None:
            self.small(out)
        else:
            return {"allOf": [target, out]} if out else target
        return out


def drawable_pattern(source: str) -> str:
    """An ECMA-262 pattern respelled for hypothesis, which draws strings with Python's `re`
    (`\\p{L}`, `(?<name>`...): only to draw near the pattern; the reference judges."""
    from codegen.runtime.patterns import PatternError, pattern, sre_syntax

    try:
        return sre_syntax(source, unicode=pattern(source).flags == "u")
    except PatternError:
        return source


class _Many:
    """The `many(...).more()` loop hypothesis-jsonschema 0.23 drives, over the context-manager
    `many` of current Hypothesis (which dropped `more`)."""

    def __init__(self, data: Any, **sizes: Any) -> None:
        from hypothesis.internal.conjecture.utils import many

        self.inner = many(data, **sizes)
        self.inner.__enter__()
        self.steps = iter(self.inner)

    def more(self) -> bool:
        if next(self.steps, False) is None:
            return True
        self.inner.__exit__(None)
        return False

    def reject(self, why: str | None = None) -> None:
        self.inner.reject(why)


def _patch_hypothesis_jsonschema() -> None:
    from hypothesis.internal.conjecture import utils
    from hypothesis.strategies._internal import core
    from hypothesis_jsonschema import _from_schema

    if not hasattr(utils.many, "more"):
        _from_schema.cu = type("cu", (), {"many": _Many})
    if not isinstance(core.is_first_param_referenced_in_function, _BySource):
        # hypothesis-jsonschema defines a composite per object schema: read each source once.
        core.is_first_param_referenced_in_function = _BySource(core.is_first_param_referenced_in_function)


class _BySource:
    """A function of functions, computed once per code object."""

    def __init__(self, function: Callable[[Any], bool]) -> None:
        self.function = function
        self.known: dict[Any, bool] = {}

    def __call__(self, f: Any) -> bool:
        code = getattr(f, "__code__", None)
        if code is None:
            return self.function(f)
        if code not in self.known:
            self.known[code] = self.function(f)
        return self.known[code]


def _collect(strategy: Any, count: int) -> list[Any]:
    """Up to `count` values of `strategy`, the same ones on every run."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    # A schema hypothesis-jsonschema cannot fully draw from gives fewer values, not an error.
    with contextlib.suppress(Exception):
        collect()
    return found


_DRAWN: dict[tuple[str, int], list[Any]] = {}


def draw(schema: Any, count: int) -> list[Any]:
    """`count` instances drawn from `schema` (once per distinct schema and count)."""
    from hypothesis_jsonschema import from_schema

    key = (_key(schema), count)
    if key not in _DRAWN:
        _patch_hypothesis_jsonschema()
        try:
            strategy = from_schema(schema, custom_formats={"uuid": st.uuids().map(str)})
        except Exception:  # noqa: BLE001 - fall back to arbitrary JSON
            strategy = JSON
        _DRAWN[key] = _collect(strategy, count)
    return copy.deepcopy(_DRAWN[key])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def alternatives(schema: Any, inliner: Inliner) -> list[Any]:
    """The schema once per alternative of its top-level oneOf/anyOf (other keywords kept)."""
    resolved = schema
    while isinstance(resolved, dict) and set(resolved) <= {"$ref", "title", "description"} and "$ref" in resolved:
        resolved = inliner.resolve(resolved["$ref"])
    if not isinstance(resolved, dict):
        return []
    for key in ("oneOf", "anyOf"):
        options = resolved.get(key)
        if isinstance(options, list) and len(options) > 1:
            rest = {k: v for k, v in resolved.items() if k != key}
            return [{"allOf": [rest, option]} if rest else option for option in options]
    return []


# -- near misses ---------------------------------------------------------------------------------------
def _formats(schema: Any, store: Any) -> set[str]:
    schema = store.resolve(schema)
    if not isinstance(schema, dict):
        return set()
    found = {schema["format"]} if isinstance(schema.get("format"), str) else set()
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key) or []:
            found |= _formats(sub, store)
    return found


def variants(value: Any, schema: Any, store: Any, depth: int = 0) -> Iterator[Any]:
    """Values near `value`: retyped, nulled, numbers as text, integers as floats, format look-alikes,
    and the same at each property and item (to a small depth)."""
    yield None
    yield from OTHER_TYPE.get(type(value), [])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        yield str(value)
        yield float(value) if isinstance(value, int) and abs(value) < 2**53 else value + 1
        yield from NUMBER_TRICKS
    if isinstance(value, str):
        yield value + "\ud800"  # JSON can carry a lone surrogate; Python keeps it
        yield value + "\n"  # ECMA-262's `$` is the end, not before a final newline
        if value.translate(EASTERN_DIGITS) != value:
            yield value.translate(EASTERN_DIGITS)  # digits, but not `\d` in ECMA-262
    for fmt in _formats(schema, store):
        yield from FORMAT_TRICKS.get(fmt, [])
    if depth >= 3:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield {k: v for k, v in value.items() if k != key}
            for near in variants(item, store.property_schema(schema, key), store, depth + 1):
                yield {**value, key: near}
            python_name = re.sub(r"\W", "_", key) + ("_" if keyword.iskeyword(key) else "")
            if python_name != key:  # the model's field name, an unknown property to JSON Schema
                yield {**value, python_name: [item]}
        yield {**value, "unexpected_property": 1}
    elif isinstance(value, list):
        items = store.items_schema(schema)
        if value:
            yield value[1:]
            yield [*value, value[0]]
            yield [*value, 1, True]
        for index, item in enumerate(value[:3]):
            for near in variants(item, items, store, depth + 1):
                yield [*value[:index], near, *value[index + 1 :]]


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def instances_for(
    subject: Subject, inliner: Inliner, store: Any, rng: random.Random, near_misses: int, objects: Inliner | None = None
) -> list[Any]:
    """Drawn instances, negations, merged alternatives and near misses of one schema, deduplicated
    (drawn from the `objects` reading too, where it differs: JSON Schema's own draws of a
    typeless schema are mostly not objects)."""
    pointer = {"$ref": "#/components/schemas/" + subject.name.replace("~", "~0").replace("/", "~1")}
    flat = inliner.inline(pointer)
    drawn = draw(flat, POSITIVE) + draw({"not": flat}, NEGATIVE)
    as_objects = objects.inline(pointer) if objects is not None else flat
    if _key(as_objects) != _key(flat):
        drawn += draw(as_objects, POSITIVE) + draw({"not": as_objects}, NEGATIVE)
    merged: list[Any] = []
    options = [draw(inliner.inline(option), 3) for option in alternatives(pointer, inliner)]
    for i, one in enumerate(options):
        for other in options[i + 1 :]:
            for a, b in zip(one, other, strict=False):
                if isinstance(a, dict) and isinstance(b, dict):
                    merged.append({**a, **b})
                    merged.append({**b, **a})
    drawn += merged[:MERGED]
    seeds = [x for x in drawn if subject.judge(x)]
    near: list[Any] = []
    for value in seeds:
        near.extend(variants(value, subject.schema, store))
    unique: dict[str, Any] = {}
    for value in drawn:
        unique.setdefault(_key(value), value)
    pool = [v for v in {_key(v): v for v in near}.values() if _key(v) not in unique]
    rng.shuffle(pool)
    for value in pool[:near_misses]:
        unique[_key(value)] = value
    return list(unique.values())


# -- the comparison ------------------------------------------------------------------------------------
def compare(api: Any, models: Any, near_misses: int = NEAR_MISSES) -> dict[str, Tally]:
    from codegen.render import Renderer
    from codegen.runtime.dialect import read_as_objects
    from codegen.runtime.params import SchemaStore

    document = Renderer(api, "spec").resolution_document()
    inliner = Inliner(document)
    objects = Inliner(read_as_objects(document))
    store = SchemaStore(document)
    tallies: dict[str, Tally] = {}
    for subject in subjects(api, models):
        rng = random.Random(subject.name)
        tally = tallies.setdefault(subject.name, Tally())
        for instance in instances_for(subject, inliner, store, rng, near_misses, objects):
            expected = subject.judge(instance)
            if expected is None:
                continue
            try:
                refusal = subject.refusal(copy.deepcopy(instance))
            except Exception as exc:  # noqa: BLE001 - a crash is a disagreement of its own
                tally.disagreements.append(f"{subject.name}: {_key(instance)} raised {exc!r}")
                tally.instances += 1
                continue
            got = refusal is None
            tally.instances += 1
            tally.valid += expected
            if expected and not got and TYPELESS in refusal and subject.judge(instance, subject.read_as_objects) is False:  # type: ignore[operator]
                tally.typeless += 1
                continue
            if got and not expected and subject.judge(instance, subject.built) is True:
                tally.access += 1
                continue
            if got != expected:
                verdict = "accepted an invalid" if got else "rejected a valid"
                tally.disagreements.append(f"{subject.name}: model {verdict} instance {_key(instance)[:300]}")
    return tallies


def summarize(label: str, tallies: dict[str, Tally]) -> tuple[int, list[str]]:
    total = sum(t.instances for t in tallies.values())
    valid = sum(t.valid for t in tallies.values())
    wrong = [d for t in tallies.values() for d in t.disagreements]
    typeless = sum(t.typeless for t in tallies.values())
    access = sum(t.access for t in tallies.values())
    agreed = total - len(wrong) - typeless - access
    print(
        f"\n{label}: {len(tallies)} schemas, {total} instances ({valid} valid, {total - valid} invalid), "
        f"agreement {agreed}/{total} ({100 * agreed / max(total, 1):.2f}%), "
        f"{typeless} non-objects refused by the typeless-properties reading, "
        f"{access} lacking only readOnly or writeOnly required properties (accepted by models built in code)"
    )
    return total, wrong


def load_api(spec: Path) -> Any:
    from codegen import ir
    from codegen.load import load

    return ir.build(load(spec))


def test_models_of_spec_agree_with_json_schema(ls: Any) -> None:
    total, wrong = summarize("spec/openapi.yaml", compare(load_api(SPEC), ls.models))
    assert not wrong, f"{len(wrong)} disagreements:\n" + "\n".join(wrong[:40])
    assert total >= MIN_SPEC_INSTANCES


FIXTURES = [
    *sorted((SPECS / "jsonschema").glob("*.yaml")),
    SPECS / "patterns" / "openapi.yaml",
    SPECS / "type-names" / "openapi.yaml",
    SPECS / "typeless" / "openapi.yaml",
]


@pytest.mark.parametrize("spec", FIXTURES, ids=[f"{f.parent.name}/{f.name}" for f in FIXTURES])
def test_models_of_fixture_agree_with_json_schema(spec: Path, tmp_path: Path) -> None:
    package = generate_package(spec, tmp_path)
    models = import_package(tmp_path, package).models
    total, wrong = summarize(spec.name, compare(load_api(spec), models, FIXTURE_NEAR_MISSES))
    assert not wrong, f"{len(wrong)} disagreements:\n" + "\n".join(wrong[:40])
    assert total > 0


def test_typeless_properties_are_read_as_objects_and_nothing_else(tmp_path: Path) -> None:
    # The `TYPELESS` reading is there (it fails when the models take JSON Schema's verdict
    # instead, or when Pydantic rather than the check refuses), and it is no wider than
    # `properties` without `type`: other object keywords without a type keep JSON Schema's.
    from pydantic import ValidationError

    spec = SPECS / "typeless" / "openapi.yaml"
    models = import_package(tmp_path, generate_package(spec, tmp_path)).models
    tallies = compare(load_api(spec), models, FIXTURE_NEAR_MISSES)
    summarize(spec.name, tallies)
    assert not [d for t in tallies.values() for d in t.disagreements]
    assert {name for name, t in tallies.items() if t.typeless} >= {"Pet", "Owner", "PetPatch", "Choice"}
    assert not any(tallies[name].typeless for name in ("Counts", "Needs", "Either"))
    for value in (5, "x", None, [1]):
        with pytest.raises(ValidationError, match=re.escape(TYPELESS)):
            models.Pet.model_validate(value)
        for name in ("Counts", "Needs", "Either"):
            assert models.ADAPTERS[name].validate_python(value) == value
    with pytest.raises(ValidationError, match="is required"):
        models.ADAPTERS["Needs"].validate_python({})



def test_models_built_in_code_waive_read_and_write_only_required_properties_and_nothing_else(tmp_path: Path) -> None:
    # Account requires id and created (readOnly) and password (writeOnly) beside email: a model
    # built in code may lack the first three, never email; no other schema is concerned.
    from pydantic import ValidationError

    spec = SPECS / "schemas" / "openapi.yaml"
    models = import_package(tmp_path, generate_package(spec, tmp_path)).models
    tallies = compare(load_api(spec), models, FIXTURE_NEAR_MISSES)
    summarize(spec.name, tallies)
    assert not [d for t in tallies.values() for d in t.disagreements]
    assert {name for name, t in tallies.items() if t.access} == {"Account", "CreateAccountArguments"}  # the body of one
    assert models.Account.model_validate({"email": "a@example.com"}).email == "a@example.com"
    with pytest.raises(ValidationError, match="is required"):
        models.Account.model_validate({"id": "00000000-0000-4000-8000-000000000000", "password": "12345678"})


def test_unevaluated_keywords_are_judged_whole_and_say_where(tmp_path: Path) -> None:
    # Hand-picked beside the drawn instances: what `allOf` and `oneOf` branches evaluate is not
    # "unevaluated"; anything else is, and the failure names the property.
    from pydantic import ValidationError

    spec = SPECS / "jsonschema" / "openapi.yaml"
    models = import_package(tmp_path, generate_package(spec, tmp_path)).models
    sealed = models.Sealed
    sealed.model_validate({"name": "n", "size": 1})
    with pytest.raises(ValidationError, match=r"unevaluated properties are not allowed \('extra' was unexpected\)"):
        sealed.model_validate({"name": "n", "size": 1, "extra": 1})
    triple = models.ADAPTERS["Triple"]
    assert triple.validate_python(["a", 1]) == ["a", 1]
    with pytest.raises(ValidationError, match=r"unevaluated items are not allowed \(2 was unexpected\)"):
        triple.validate_python(["a", 1, 2])
