"""JSON Schema (2020-12) -> Python check functions, exact to the reference validator.

Each schema that needs a function (a model, a `$ref` target, a branch of a combinator) becomes
`def check_X(value: Any) -> Failure | None`. Keywords of one schema compile inline; types are
tested the way JSON Schema defines them (1.0 is an integer, true is not a number), equality is
JSON equality, patterns are ECMA-262 (`codegen.runtime.patterns`, run by regress), formats are the
reference validator's.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..cache import Memo, json_digest
from ..errors import escape_token, ref_pointer, split_pointer
from ..names import NameSet
from ..runtime.dialect import TYPELESS_OBJECT, access, reads_as_object
from ..runtime.patterns import is_pattern
from .layout import Bracket, Expr, call, fits, flat, literal, signature, statement
from .text import py

PYTHON_CLASSES = {"string": "str", "boolean": "bool", "array": "list", "object": "dict"}
TYPE_TESTS = {
    "string": "isinstance({v}, str)",
    "integer": "is_integer({v})",
    "number": "is_number({v})",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
    "array": "isinstance({v}, list)",
    "object": "isinstance({v}, dict)",
}
ARTICLE = {"integer": "an integer", "array": "an array", "object": "an object"}
REQUIRED_ONLY_KEYS = {"required", "title", "description", "$comment"}
ANNOTATIONS = {
    "title",
    "description",
    "default",
    "examples",
    "example",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
    "discriminator",
    "xml",
    "externalDocs",
    "$schema",
    "$id",
    "$anchor",
    "contentMediaType",
    "contentEncoding",
}
# Regexes matching only text the reference's format checker accepts (a subset of it).
FORMAT_FAST_PATHS = {"uuid": "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"}
STRING_KEYS = ("minLength", "maxLength", "pattern", "format")
NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
ARRAY_KEYS = ("minItems", "maxItems", "uniqueItems", "prefixItems", "items", "contains")
OBJECT_KEYS = (
    "required",
    "properties",
    "patternProperties",
    "additionalProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedProperties",
)


def required_only(options: Any) -> bool:
    """Alternatives that only require properties (`oneOf: [{required: [a]}, {required: [b]}]`)."""
    return isinstance(options, list) and bool(options) and all(
        isinstance(o, dict) and "required" in o and set(o) <= REQUIRED_ONLY_KEYS for o in options
    )


def _article(t: str) -> str:
    return ARTICLE.get(t, "a " + t) if t != "null" else "null"


def _describe_types(types: list[str]) -> str:
    words = [_article(t) for t in types]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _trivial(schema: Any) -> bool:
    if schema is True:
        return True
    if not isinstance(schema, dict):
        return False
    return all(k in ANNOTATIONS or k.startswith("x-") for k in schema)


@dataclass
class _Function:
    name: str
    pointer: str
    lines: list[str] = field(default_factory=list)


@dataclass
class _Record:
    """What compiling one function's body did to the module (in order), so that a later run
    can do the same without compiling it: the functions it called and the constants it used
    (`events`, each with the name it got), the helpers it used, and the parts of the document
    it read outside its own schema (`reads`: owner pointer -> digest)."""

    events: list[list[Any]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    helpers: list[str] = field(default_factory=list)
    reads: dict[str, str] = field(default_factory=dict)


MAX_INDENT = 12


class ValidatorCompiler:
    """Compiles the schemas of one document into a module of check functions.

    With a `memo` (holding what an earlier compiler, over this or another document, put in
    it), a function whose schema, named models and reads are unchanged since, and whose calls
    and constants get the names they got then, takes its body from the memo instead of being
    compiled: the module is the same either way.
    """

    def __init__(
        self, document: dict[str, Any], named: set[str] | None = None, memo: Memo | None = None, digests: dict[str, str] | None = None
    ) -> None:
        self.document = document
        # Schemas with a function of their own (models): called, not inlined, where they occur.
        self.named = set(named or ())
        self.functions: dict[str, _Function] = {}
        self.by_pointer: dict[str, str] = {}
        self.names = NameSet(separator="_")
        self.constants: dict[str, str] = {}  # source -> name
        self.constant_values: dict[str, Bracket] = {}  # name -> value
        self.counter = 0
        self.helpers: set[str] = {"Failure"}
        self.memo = memo if memo is not None else Memo(None, "checks")
        self._records: list[_Record] = []
        self._digests: dict[str, str] = dict(digests or {})  # see `owner_digests`
        self._named_in: dict[str, list[str]] = {}
        for ptr in sorted(self.named):
            self._named_in.setdefault(_owner(ptr), []).append(ptr)
        self._reached: set[str] = set()  # owners a function read through a reference (see `adopt`)

    def fork(self) -> ValidatorCompiler:
        """A compiler in this one's state, going on apart from it (the document, the memo and
        the digests it reads are shared; functions, once made, are never changed)."""
        other = copy.copy(self)
        other.functions = dict(self.functions)
        other.by_pointer = dict(self.by_pointer)
        other.names = NameSet(separator=self.names.separator)
        other.names.folded = set(self.names.folded)
        other.constants = dict(self.constants)
        other.constant_values = dict(self.constant_values)
        other.helpers = set(self.helpers)
        other._records = []
        other._digests = dict(self._digests)
        other._named_in = {owner: list(pointers) for owner, pointers in self._named_in.items()}
        other._reached = set(self._reached)
        other.named = set(self.named)
        return other

    def adopt(self, pointers: list[str]) -> bool:
        """Name `pointers` (new models) as if they had been named from the start, when that
        changes nothing made so far: each is in an owner no function has read, reached or been
        named in yet (a schema the spec gained, that no other refers to). False, and nothing
        changed, otherwise."""
        owners = {_owner(ptr) for ptr in pointers}
        touched = self._reached | self._named_in.keys() | {_owner(ptr) for ptr in self.by_pointer}
        if owners & touched:
            return False
        self.named.update(pointers)
        for ptr in sorted(pointers):
            self._named_in.setdefault(_owner(ptr), []).append(ptr)
        return True

    # -- memo ------------------------------------------------------------------------------
    def _digest(self, owner: str) -> str:
        """A digest of the part of the document at `owner` (a component or a path item)."""
        if owner not in self._digests:
            try:
                node = self.resolve(owner)
            except (KeyError, IndexError, ValueError, TypeError):
                node = None
            self._digests[owner] = json_digest(node)
        return self._digests[owner]

    def _unit_key(self, pointer: str) -> str:
        owner = _owner(pointer)
        return "\0".join([pointer, self._digest(owner), *self._named_in.get(owner, [])])

    def _use(self, *helpers: str) -> None:
        self.helpers.update(helpers)
        if self._records:
            self._records[-1].helpers.extend(h for h in helpers if h not in self._records[-1].helpers)

    def _replay(self, fn: _Function, key: str) -> bool:
        """Take `fn`'s body from the memo when it holds one made under the same conditions."""
        entry = self.memo.peek(key)
        if not (isinstance(entry, list) and len(entry) == 5):
            return False
        events, names, helpers, reads, body = entry
        if not isinstance(body, str) or any(self._digest(owner) != digest for owner, digest in reads.items()):
            return False
        self._reached.update(reads)
        got = []
        for event in events:
            if event[0] == "f":
                got.append(self.function_for(event[1]))
            else:
                known = self.constants.get(event[3]) if len(event) > 3 else None
                # A constant the module has already needs no value built again.
                got.append(known if known is not None else self.constant(event[1], _bracket(event[2])))
        if got != names:
            return False  # a name moved: the lines would call or read another one
        self.helpers.update(helpers)
        fn.lines = [body] if body else []
        self.memo.get(key)  # used: kept for the next run
        return True

    # -- naming ------------------------------------------------------------------------------
    def _name_for(self, pointer: str) -> str:
        tokens = split_pointer(pointer)
        if len(tokens) == 3 and tokens[:2] == ["components", "schemas"]:
            base = "check_" + re.sub(r"\W", "_", tokens[2], flags=re.ASCII)
        else:
            self.counter += 1
            base = f"_check_{self.counter}"
        return self.names.add(base)

    def constant(self, prefix: str, value: Bracket) -> str:
        source = flat(value)
        if source not in self.constants:
            self.constants[source] = f"_{prefix}{len(self.constants) + 1}"
            self.constant_values[self.constants[source]] = value
        if self._records:
            self._records[-1].events.append(["c", prefix, _json(value), source])
            self._records[-1].names.append(self.constants[source])
        return self.constants[source]

    def pattern(self, source: str) -> str:
        """The constant holding `source` compiled as an ECMA-262 pattern (once per module)."""
        self._use("pattern")
        return self.constant("P", call("pattern", py(source)))

    def resolve(self, pointer: str) -> Any:
        node: Any = self.document
        for token in split_pointer(pointer):
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def resolves(self, pointer: str) -> bool:
        """Whether `pointer` names a schema of the document."""
        try:
            self.resolve(pointer.removeprefix("#"))
        except (KeyError, IndexError, ValueError, TypeError):
            return False
        return True

    def _resolve_ref(self, ref: str) -> Any:
        if ref.startswith("#"):
            owner = _owner(ref_pointer(ref))
            self._reached.add(owner)
            if self._records:
                self._records[-1].reads[owner] = self._digest(owner)
        try:
            return self.resolve(ref_pointer(ref)) if ref.startswith("#") else None
        except (KeyError, IndexError, ValueError):
            return None

    def function_for(self, pointer: str) -> str:
        """The check function of the schema at `pointer` (compiled on first use)."""
        pointer = pointer.removeprefix("#")
        name = self._function_for(pointer)
        if self._records:
            self._records[-1].events.append(["f", pointer])
            self._records[-1].names.append(name)
        return name

    def _function_for(self, pointer: str) -> str:
        if pointer in self.by_pointer:
            return self.by_pointer[pointer]
        schema = self.resolve(pointer)
        if isinstance(schema, dict) and set(schema) <= {"$ref"} | ANNOTATIONS and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#"):
            # A bare reference checks exactly what its target checks.
            records, self._records = self._records, []
            name = self.function_for(ref_pointer(schema["$ref"]))
            self._records = records
            self.by_pointer[pointer] = name
            return name
        name = self._name_for(pointer)
        self.by_pointer[pointer] = name
        fn = _Function(name, pointer)
        self.functions[name] = fn
        key = self._unit_key(pointer)
        records, self._records = self._records, []  # a replay records nothing for the caller
        replayed = self._replay(fn, key)
        self._records = records
        if not replayed:
            self._records.append(record := _Record())
            body: list[str] = []
            self.node(schema, pointer, "value", [], 1, 0, body)
            self._records.pop()
            fn.lines = body
            # The body as one text: a memo of few long strings reads back faster than one of many.
            self.memo.put(key, [record.events, record.names, record.helpers, record.reads, "\n".join(body)])
        return name

    def reference_source(self, schema: dict[str, Any]) -> str:
        """`schema` as a JSON document for the reference validator: the schema at its root, and
        every part of the spec its references reach at the same pointers."""
        reached: dict[str, Any] = {}  # pointer -> the part of the spec there
        pending = [schema]
        while pending:
            node = pending.pop()
            if isinstance(node, list):
                pending.extend(node)
            elif isinstance(node, dict):
                for key, value in node.items():
                    if key not in ("$ref", "$dynamicRef"):
                        pending.append(value)
                    elif isinstance(value, str) and value.startswith("#/") and ref_pointer(value) not in reached:
                        reached[ref_pointer(value)] = target = self._resolve_ref(value)
                        pending.append(target)
        document: dict[str, Any] = {}
        placed: list[list[str]] = []
        for pointer in sorted(reached, key=lambda p: (len(split_pointer(p)), p)):
            tokens = split_pointer(pointer)
            if reached[pointer] is None or not tokens or any(tokens[: len(done)] == done for done in placed):
                continue  # unresolvable, or inside a part already copied whole
            node = document
            for token in tokens[:-1]:
                node = node.setdefault(token, {})
            node[tokens[-1]] = reached[pointer]
            placed.append(tokens)
        root = {**document, **schema}
        return json.dumps(root, sort_keys=True, separators=(",", ":"))

    # -- emission ----------------------------------------------------------------------------
    @staticmethod
    def _fail(path: list[str], message: str, ind: int, out: list[str]) -> None:
        where = f", ({path[0]},)" if len(path) == 1 else f", ({', '.join(path)})" if path else ""
        line = "    " * ind + f"return Failure({message}{where})"
        if not fits(line):
            line = statement(call("Failure", message, literal("(", path)) if path else call("Failure", message), ind, "return ")
        out.append(line)

    @staticmethod
    def _within(check: Expr, path: list[str], ind: int, out: list[str]) -> None:
        pad = "    " * ind
        out.append(statement(check, ind, "f = "))
        out.append(pad + "if f is not None:")
        out.append(pad + ("    return f.within(" + ", ".join(path) + ")" if path else "    return f"))

    def node(self, schema: Any, ptr: str, v: str, path: list[str], ind: int, depth: int, out: list[str]) -> None:
        pad = "    " * ind
        if schema is True or _trivial(schema):
            return
        # Deep schemas continue in a function of their own: Python allows 20 nested blocks.
        if depth > 0 and (ptr in self.named or ind > MAX_INDENT):
            self._within(f"{self.function_for(ptr)}({v})", path, ind, out)
            return
        if schema is False:
            self._fail(path, py("no value is allowed here"), ind, out)
            return
        if not isinstance(schema, dict):
            return
        if _needs_reference(schema):
            # What `unevaluated*` leaves out depends on every applicator beside it: the reference
            # validator judges this schema whole.
            self._use("ReferenceCheck")
            name = self.constant("R", call("ReferenceCheck", py(self.reference_source(schema))))
            self._within(f"{name}({v})", path, ind, out)
            return
        if "$ref" in schema or "$dynamicRef" in schema:
            ref = schema.get("$ref", schema.get("$dynamicRef"))
            if isinstance(ref, str) and ref.startswith("#"):
                self._within(f"{self.function_for(ref_pointer(ref))}({v})", path, ind, out)
        types = schema.get("type")
        if isinstance(types, str):
            types = [types]
        binary = schema.get("format") == "binary"
        if isinstance(types, list) and types:
            tests = []
            classes: list[str] = []  # one isinstance() for the plain Python types
            for t in types:
                if t in PYTHON_CLASSES:
                    classes.extend(["str", "bytes"] if t == "string" and binary else [PYTHON_CLASSES[t]])
                elif t in TYPE_TESTS:
                    tests.append(TYPE_TESTS[t].format(v=v))
                    self._use(*({"is_integer"} if t == "integer" else {"is_number"} if t == "number" else set()))
            if classes:
                classes = list(dict.fromkeys(classes))
                spelled = classes[0] if len(classes) == 1 else "(" + ", ".join(classes) + ")"
                tests.insert(0, f"isinstance({v}, {spelled})")
            cond = " or ".join(tests) if tests else "False"
            out.append(pad + f"if not ({cond}):")
            self._use("json_type")
            self._fail(path, f"{py('must be ' + _describe_types(types))} + \", not \" + json_type({v})", ind + 1, out)
        type_set = set(types) if isinstance(types, list) else None
        if types is None and reads_as_object(schema):
            # Our reading, not JSON Schema's (README, "Schemas"): the model is an object's.
            out.append(pad + f"if not isinstance({v}, dict):")
            self._fail(path, py(TYPELESS_OBJECT), ind + 1, out)
            type_set = {"object"}

        if "const" in schema:
            self._const(schema["const"], v, path, ind, out, type_set == {"string"})
        if isinstance(schema.get("enum"), list):
            self._enum(schema["enum"], v, path, ind, out, type_set == {"string"})

        groups = (
            ("string", STRING_KEYS, f"isinstance({v}, str)", {"string"}),
            ("number", NUMBER_KEYS, f"is_number({v})", {"number", "integer"}),
            ("array", ARRAY_KEYS, f"isinstance({v}, list)", {"array"}),
            ("object", OBJECT_KEYS, f"isinstance({v}, dict)", {"object"}),
        )
        for kind, keys, guard, own in groups:
            if not any(k in schema for k in keys):
                continue
            if type_set is not None and not (type_set & own):
                continue  # the type check already rejects every instance these keywords apply to
            needs_guard = type_set is None or not type_set <= own
            block: list[str] = []
            inner = ind + 1 if needs_guard else ind
            getattr(self, f"_{kind}")(schema, ptr, v, path, inner, depth, block)
            if block:
                if needs_guard:
                    if kind == "number":
                        self._use("is_number")
                    block = _guarded(guard, block, ind)
                out.extend(block)

        if isinstance(schema.get("allOf"), list):
            for i, sub in enumerate(schema["allOf"]):
                self.node(sub, f"{ptr}/allOf/{i}", v, path, ind, depth, out)
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if not isinstance(options, list) or not options:
                continue
            exactly = key == "oneOf"
            if required_only(options):
                groups = literal("(", [literal("(", [py(n) for n in o["required"]]) for o in options])
                name = self.constant("G", groups)
                self._use("required_alternatives")
                present = [" and ".join(f"{py(n)} in {v}" for n in o["required"]) or "True" for o in options]
                if exactly:
                    miss = " + ".join(f"({p})" for p in present) + " != 1"
                else:
                    miss = "not (" + " or ".join(f"({p})" for p in present) + ")"
                is_object = type_set == {"object"}
                out.append(pad + (f"if {miss}:" if is_object else f"if isinstance({v}, dict) and {miss}:"))
                # The helper only words the failure; the test above is inline for speed.
                failure = f"required_alternatives({v}, {name}, {exactly})"
                out.append(pad + f"    return {failure}" + (f".within({', '.join(path)})" if path else ""))
                if exactly and len(options) > 1 and not is_object:
                    out.append(pad + f"if not isinstance({v}, dict):")
                    self._fail(path, py("must match exactly one alternative (each only requires properties of an object)"), ind + 1, out)
                continue
            fns = [self.function_for(f"{ptr}/{key}/{i}") for i in range(len(options))]
            helper = "one_of" if exactly else "any_of"
            self._use(helper)
            self._within(call(helper, v, literal("(", fns, magic=True)), path, ind, out)
        if "not" in schema:
            fn = self.function_for(f"{ptr}/not")
            out.append(pad + f"if {fn}({v}) is None:")
            self._fail(path, py("must not match the schema it is denied"), ind + 1, out)
        if "if" in schema and ("then" in schema or "else" in schema):
            fn = self.function_for(f"{ptr}/if")
            then_block: list[str] = []
            else_block: list[str] = []
            if "then" in schema:
                self.node(schema["then"], f"{ptr}/then", v, path, ind + 1, depth, then_block)
            if "else" in schema:
                self.node(schema["else"], f"{ptr}/else", v, path, ind + 1, depth, else_block)
            if then_block or else_block:
                out.append(pad + f"if {fn}({v}) is None:")
                out.extend(then_block or [pad + "    pass"])
                if else_block:
                    out.append(pad + "else:")
                    out.extend(else_block)

    def _const(self, value: Any, v: str, path: list[str], ind: int, out: list[str], is_str: bool) -> None:
        pad = "    " * ind
        if isinstance(value, str):
            out.append(pad + (f"if {v} != {py(value)}:" if is_str else f"if not (isinstance({v}, str) and {v} == {py(value)}):"))
        else:
            name = self.constant("C", _value(value))
            self._use("json_equal")
            out.append(pad + f"if not json_equal({v}, {name}):")
        self._fail(path, py(f"must be {_short(value)}"), ind + 1, out)

    def _enum(self, values: list[Any], v: str, path: list[str], ind: int, out: list[str], is_str: bool) -> None:
        pad = "    " * ind
        shown = ", ".join(_short(x, 40) for x in values[:12]) + (", ..." if len(values) > 12 else "")
        if values and all(isinstance(x, str) for x in values):
            name = self.constant("E", _frozenset(sorted(set(values))))
            out.append(pad + (f"if {v} not in {name}:" if is_str else f"if not (isinstance({v}, str) and {v} in {name}):"))
        elif values and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in values):
            name = self.constant("E", _frozenset(values))
            self._use("is_number")
            out.append(pad + f"if not (is_number({v}) and {v} in {name}):")
        else:
            name = self.constant("E", literal("(", [_value(x) for x in values]))
            self._use("in_enum")
            out.append(pad + f"if not in_enum({v}, {name}):")
        self._fail(path, py(f"must be one of {shown}"), ind + 1, out)

    def _string(self, schema: dict[str, Any], ptr: str, v: str, path: list[str], ind: int, depth: int, out: list[str]) -> None:
        pad = "    " * ind
        low, high = schema.get("minLength"), schema.get("maxLength")
        if isinstance(low, int) and low > 0:
            out.append(pad + f"if len({v}) < {low}:")
            self._fail(path, py(f"must have at least {low} character{'s' if low != 1 else ''}"), ind + 1, out)
        if isinstance(high, int):
            out.append(pad + f"if len({v}) > {high}:")
            self._fail(path, py(f"must have at most {high} character{'s' if high != 1 else ''}"), ind + 1, out)
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and is_pattern(pattern):
            name = self.pattern(pattern)
            out.append(pad + f"if not {name}.search({v}):")
            self._fail(path, py(f"must match the pattern {pattern}"), ind + 1, out)
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt not in ("binary", "byte", "int32", "int64", "float", "double", "password"):
            self._use("format_ok")
            if fmt in FORMAT_FAST_PATHS:
                # The usual spelling passes at regex speed; any other goes to the reference checker.
                name = self.constant("P", call("re.compile", py(FORMAT_FAST_PATHS[fmt])))
                out.append(pad + f"if not ({name}.fullmatch({v}) or format_ok({py(fmt)}, {v})):")
            else:
                out.append(pad + f"if not format_ok({py(fmt)}, {v}):")
            self._fail(path, py(f"must be a valid {fmt}"), ind + 1, out)

    def _number(self, schema: dict[str, Any], ptr: str, v: str, path: list[str], ind: int, depth: int, out: list[str]) -> None:
        pad = "    " * ind
        checks = (
            ("minimum", "<", "must be at least {}"),
            ("exclusiveMinimum", "<=", "must be greater than {}"),
            ("maximum", ">", "must be at most {}"),
            ("exclusiveMaximum", ">=", "must be less than {}"),
        )
        for key, op, message in checks:
            bound = schema.get(key)
            if isinstance(bound, (int, float)) and not isinstance(bound, bool):
                out.append(pad + f"if {v} {op} {py(bound)}:")
                self._fail(path, py(message.format(bound)), ind + 1, out)
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0:
            self._use("multiple_of")
            out.append(pad + f"if not multiple_of({v}, {py(step)}):")
            self._fail(path, py(f"must be a multiple of {step}"), ind + 1, out)

    def _array(self, schema: dict[str, Any], ptr: str, v: str, path: list[str], ind: int, depth: int, out: list[str]) -> None:
        pad = "    " * ind
        low, high = schema.get("minItems"), schema.get("maxItems")
        if isinstance(low, int) and low > 0:
            out.append(pad + f"if len({v}) < {low}:")
            self._fail(path, py(f"must have at least {low} item{'s' if low != 1 else ''}"), ind + 1, out)
        if isinstance(high, int):
            out.append(pad + f"if len({v}) > {high}:")
            self._fail(path, py(f"must have at most {high} item{'s' if high != 1 else ''}"), ind + 1, out)
        if schema.get("uniqueItems") is True:
            self._use("has_duplicates")
            out.append(pad + f"if has_duplicates({v}):")
            self._fail(path, py("must not contain duplicate items"), ind + 1, out)
        prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
        item = f"v{depth + 1}"
        for j, sub in enumerate(prefix):
            block: list[str] = []
            self.node(sub, f"{ptr}/prefixItems/{j}", item, [*path, str(j)], ind + 1, depth + 1, block)
            if block:
                out.append(pad + f"if len({v}) > {j}:")
                out.append(pad + f"    {item} = {v}[{j}]")
                out.extend(block)
        items = schema.get("items")
        if items is False:
            out.append(pad + f"if len({v}) > {len(prefix)}:")
            self._fail(path, py(f"must have at most {len(prefix)} item{'s' if len(prefix) != 1 else ''}"), ind + 1, out)
        elif items is not None and not _trivial(items):
            index = f"i{depth}"
            block = []
            self.node(items, f"{ptr}/items", item, [*path, index], ind + 1, depth + 1, block)
            if block:
                if prefix:
                    out.append(pad + f"for {index} in range({len(prefix)}, len({v})):")
                    out.append(pad + f"    {item} = {v}[{index}]")
                else:
                    out.append(pad + f"for {index}, {item} in enumerate({v}):")
                out.extend(block)
        if "contains" in schema:
            fn = self.function_for(f"{ptr}/contains")
            low_c = schema.get("minContains", 1)
            high_c = schema.get("maxContains")
            count = f"n{depth}"
            out.append(pad + f"{count} = sum(1 for x in {v} if {fn}(x) is None)")
            if isinstance(low_c, int) and low_c > 0:
                out.append(pad + f"if {count} < {low_c}:")
                self._fail(path, py(f"must contain at least {low_c} matching item{'s' if low_c != 1 else ''}"), ind + 1, out)
            if isinstance(high_c, int):
                out.append(pad + f"if {count} > {high_c}:")
                self._fail(path, py(f"must contain at most {high_c} matching item{'s' if high_c != 1 else ''}"), ind + 1, out)

    def _object(self, schema: dict[str, Any], ptr: str, v: str, path: list[str], ind: int, depth: int, out: list[str]) -> None:
        pad = "    " * ind
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        for name in schema.get("required") or []:
            if isinstance(name, str):
                flag = access(properties.get(name), self._resolve_ref)
                if flag is None:
                    out.append(pad + f"if {py(name)} not in {v}:")
                else:
                    # Only where it travels: readOnly in responses, writeOnly in requests.
                    self._use("direction")
                    needed = "response" if flag == "readOnly" else "request"
                    out.append(pad + f"if {py(name)} not in {v} and direction() == {py(needed)}:")
                self._fail([*path, py(name)], py("is required"), ind + 1, out)
        low, high = schema.get("minProperties"), schema.get("maxProperties")
        if isinstance(low, int) and low > 0:
            out.append(pad + f"if len({v}) < {low}:")
            self._fail(path, py(f"must have at least {low} propert{'ies' if low != 1 else 'y'}"), ind + 1, out)
        if isinstance(high, int):
            out.append(pad + f"if len({v}) > {high}:")
            self._fail(path, py(f"must have at most {high} propert{'ies' if high != 1 else 'y'}"), ind + 1, out)
        item = f"v{depth + 1}"
        key = f"k{depth}"
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        for name, sub in properties.items():
            block: list[str] = []
            self.node(sub, f"{ptr}/properties/{escape_token(name)}", item, [*path, py(name)], ind + 1, depth + 1, block)
            if block:
                out.append(pad + f"if {py(name)} in {v}:")
                out.append(pad + f"    {item} = {v}[{py(name)}]")
                out.extend(block)
        patterns = schema.get("patternProperties") if isinstance(schema.get("patternProperties"), dict) else {}
        compiled = {p: self.pattern(p) for p in patterns if is_pattern(p)}
        for pattern, sub in patterns.items():
            if pattern not in compiled:
                continue
            block = []
            self.node(sub, f"{ptr}/patternProperties/{escape_token(pattern)}", item, [*path, key], ind + 2, depth + 1, block)
            if block:
                out.append(pad + f"for {key}, {item} in {v}.items():")
                out.extend(_guarded(f"{compiled[pattern]}.search({key})", block, ind + 1))
        extra = schema.get("additionalProperties")
        if extra is None and "unevaluatedProperties" in schema and not _has_applicators(schema):
            extra = schema["unevaluatedProperties"]
            extra_ptr = f"{ptr}/unevaluatedProperties"
        else:
            extra_ptr = f"{ptr}/additionalProperties"
        if extra is not None and not _trivial(extra):
            block = []
            if extra is False:
                self._fail([*path, key], py("is not allowed (unexpected property)"), ind + 1, block)
            else:
                self.node(extra, extra_ptr, item, [*path, key], ind + 1, depth + 1, block)
            if block:
                out.append(pad + f"for {key}, {item} in {v}.items():")
                if properties:
                    known = self.constant("K", _frozenset(sorted(properties)))
                    out.append(pad + f"    if {key} in {known}:")
                    out.append(pad + "        continue")
                for pattern in compiled.values():
                    out.append(pad + f"    if {pattern}.search({key}):")
                    out.append(pad + "        continue")
                out.extend(block)
        names = schema.get("propertyNames")
        if names is not None and not _trivial(names):
            block = []
            self.node(names, f"{ptr}/propertyNames", key, [*path, key], ind + 1, depth + 1, block)
            if block:
                out.append(pad + f"for {key} in {v}:")
                out.extend(block)
        for name, deps in (schema.get("dependentRequired") or {}).items():
            if isinstance(deps, list) and deps:
                block = []
                for dep in deps:
                    block.append(pad + f"    if {py(dep)} not in {v}:")
                    self._fail([*path, py(dep)], py(f"is required when {name} is present"), ind + 2, block)
                out.extend(_guarded(f"{py(name)} in {v}", block, ind))
        for name, sub in (schema.get("dependentSchemas") or {}).items():
            block = []
            self.node(sub, f"{ptr}/dependentSchemas/{escape_token(name)}", v, path, ind + 1, depth, block)
            if block:
                out.extend(_guarded(f"{py(name)} in {v}", block, ind))

    # -- module ------------------------------------------------------------------------------
    def functions_source(self) -> list[str]:
        """The module body: constants, then every function in order of creation."""
        lines: list[str] = []
        if self.constants:
            for name, value in self.constant_values.items():
                lines.append(statement(value, 0, f"{name} = "))
        for fn in self.functions.values():
            lines.extend(["", ""] if lines else [""])  # the template's blank line is the other one
            lines.append(signature(f"def {fn.name}", ["value: Any"], "Failure | None"))
            safe = fn.pointer.isascii() and fn.pointer.isprintable() and not set(fn.pointer) & {'"', "\\"}
            lines.append(f'    """Check against #{fn.pointer}."""' if safe else '    """Check against a schema of the spec."""')
            lines.extend(fn.lines)
            lines.append("    return None")
        return lines


def _frozenset(values: list[Any]) -> Bracket:
    return call("frozenset", literal("{", [py(v) for v in values]))


def _value(value: Any) -> Any:
    """A JSON value as an expression (containers as displays black can lay out)."""
    if isinstance(value, list):
        return literal("[", [_value(v) for v in value])
    if isinstance(value, dict):
        return Bracket("", tuple((f"{py(k)}: ", _value(v)) for k, v in value.items()), "{", literal=True)
    return py(value)


def _guarded(guard: str, block: list[str], ind: int) -> list[str]:
    """`if guard:` around `block`; a block that is a single `if` joins the guard with `and`
    when the joined statement stays on one line each (else the nesting is kept, marked for
    linters)."""
    pad = "    " * ind
    inner = pad + "    "
    first = block[0]
    single_if = (
        first.startswith(inner + "if ")
        and first.endswith(":")
        and all(line.startswith(inner + "    ") for line in block[1:])
    )
    if not single_if:
        return [pad + f"if {guard}:", *block]
    cond = first[len(inner) + 3 : -1]
    if " or " in cond or " if " in cond:
        cond = f"({cond})"
    joined = pad + f"if {guard} and {cond}:"
    body = [line[4:] for line in block[1:]]
    if "\n" in "".join(block) or not fits(joined) or not all(fits(line) for line in body):
        return [pad + f"if {guard}:  # noqa: SIM102", *block]
    return [joined, *body]


def _needs_reference(schema: dict[str, Any]) -> bool:
    """Whether the compiled keywords cannot judge `schema` alone: `unevaluatedItems`, or
    `unevaluatedProperties` beside applicators."""
    return "unevaluatedItems" in schema or ("unevaluatedProperties" in schema and _has_applicators(schema))


def _has_applicators(schema: dict[str, Any]) -> bool:
    return any(k in schema for k in ("allOf", "anyOf", "oneOf", "if", "$ref", "dependentSchemas", "not"))


def owner_digests(document: dict[str, Any], known: dict[str, str] | None = None) -> dict[str, str]:
    """The digests `ValidatorCompiler` keys its memo by, of each schema and path item of
    `document` (worked out ahead, while the models render): `known` ones (`ir.Api.digests`,
    of the same values) taken as they are."""
    known = known or {}
    digests = {}
    for top, kind in (("components", "schemas"), ("paths", None)):
        node = document.get(top)
        node = node.get(kind) if isinstance(node, dict) and kind is not None else node
        prefix = f"/{top}/{kind}/" if kind is not None else f"/{top}/"
        if isinstance(node, dict):
            for name, value in node.items():
                place = prefix + escape_token(name)
                digests[place] = known.get(place) or json_digest(value)
    return digests


def unit_owner(key: str) -> str:
    """The owner (`_owner`) of the function a memo key (`ValidatorCompiler._unit_key`) is for."""
    return _owner(key.partition("\0")[0])


def _owner(pointer: str) -> str:
    """The component (`/components/schemas/X`) or path item (`/paths/p`) holding `pointer`."""
    tokens = pointer.split("/")
    return "/".join(tokens[:4] if len(tokens) > 1 and tokens[1] == "components" else tokens[:3])


def _json(expr: Expr) -> Any:
    """`expr` as a JSON value (`_bracket` reads it back)."""
    if isinstance(expr, str):
        return expr
    return [expr.head, [[prefix, _json(value)] for prefix, value in expr.items], expr.opening, expr.literal, expr.magic]


def _bracket(value: Any) -> Expr:
    if isinstance(value, str):
        return value
    head, items, opening, is_literal, magic = value
    return Bracket(head, tuple((prefix, _bracket(item)) for prefix, item in items), opening, literal=is_literal, magic=magic)
