"""Pydantic v2 models through datamodel-code-generator, driven as a library.

datamodel-code-generator types the models (missing sentinel for optional properties, strict
strings and booleans, its schema validators). It is given each schema without the keywords that
Pydantic would enforce differently from JSON Schema (patterns run by another regex engine,
float `multipleOf`, uniqueness by Python equality, discriminators, most formats); the generated
JSON Schema checks enforce those exactly, so the models accept exactly what the spec accepts.
"""

from __future__ import annotations

import ast
import json
import re
import tempfile
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cache import json_digest
from ..errors import ref_to, schema_name, split_pointer
from ..runtime.dialect import required_in
from .format import LINE_LENGTH
from .parts import referenced

if TYPE_CHECKING:
    from ..cache import Memo, Store
    from .parallel import Workers
from .validators import required_only

# Formats Pydantic types exactly as JSON Schema reads them (with our RFC 3339 date-time type).
TYPED_FORMATS = {"uuid", "date-time", "date", "binary"}
# Keywords left to the generated checks alone.
CHECK_ONLY = {
    "pattern",
    # Pydantic cannot measure a string holding a lone surrogate, which JSON can carry.
    "minLength",
    "maxLength",
    "multipleOf",
    "uniqueItems",
    "propertyNames",
    "discriminator",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "minContains",
    "maxContains",
    "minProperties",
    "maxProperties",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedProperties",
    "unevaluatedItems",
    "examples",
    "example",
}
SCHEMA_CHILDREN = ("items", "additionalProperties", "contains", "propertyNames")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_MAPS = ("properties", "$defs")

OPTIONS: dict[str, Any] = {
    "target_python_version": "3.11",
    "target_pydantic_version": "2.14",
    "use_annotated": True,
    # Its validators would enforce only keywords `pydantic_view` leaves to the generated checks
    # (required groups, if/then/else, property counts, uniqueItems, patternProperties): off, so
    # it does not spend a sixth of its time looking for them.
    "generate_schema_validators": False,
    "use_missing_sentinel": True,
    "strict_nullable": True,
    # int and float become the runtime's JSON integer and number (see import_overrides).
    "strict_types": ["str", "bool", "int", "float"],
    "disable_timestamp": True,
    # Formatted afterwards (`format_models`), once the generator's state is gone.
    "formatters": [],
    "naming_strategy": "parent-prefixed",
    "use_schema_description": True,
    "use_field_description": True,
    "use_double_quotes": True,
    "base_class": "codegen.runtime.SpecModel",
    "use_type_alias": True,
    # Types Pydantic would read differently from JSON Schema, replaced by the runtime's.
    "import_overrides": {name: "codegen.runtime" for name in ("AwareDatetime", "StrictFloat", "StrictInt", "UUID")},
    "schema_version": "3.1",
    "deserialize_default_values": ["enum"],
}


BATCH = 96  # schemas a worker's call to generate parts reads, at least (but the last)

# The module's tail reaches its helpers through these modules, whose names no schema's class can
# take (classes start with a capital or a letter without case, never `_`).
OWN_IMPORTS = ("from codegen import runtime", "from . import _validators")
ADAPTERS = "ADAPTERS"  # public (`models.ADAPTERS[name]`): a schema's class never takes it


@dataclass
class Field:
    """A field of a generated class, read back from the generated source."""

    name: str
    annotation: str
    default: str | None  # source of the default value, None when required
    alias: str | None


@dataclass
class Models:
    """The generated models module and what later templates need to know about it."""

    source: str
    pointers: dict[str, str] = field(default_factory=dict)  # class or alias -> schema pointer
    kinds: dict[str, str] = field(default_factory=dict)  # name -> "model" | "enum" | "alias"
    by_pointer: dict[str, str] = field(default_factory=dict)  # schema pointer -> class or alias
    fields: dict[str, list[Field]] = field(default_factory=dict)
    enum_members: dict[str, dict[Any, str]] = field(default_factory=dict)
    # name bound by an import -> (module, imported name): datamodel-code-generator imports a type
    # as `date_aliased` when a field named `date` would hide it in a class body.
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)
    mutable_class_values: bool = False  # a class body assigns a list, dict or set literal
    blocks: list[str] = field(default_factory=list)  # each class or alias, finished, in order
    rebuild: list[str] = field(default_factory=list)  # `X.model_rebuild()` after all classes
    qualified: dict[str, Any] = field(default_factory=dict)  # type expressions as other modules write them

    def type_of(self, pointer: str) -> str | None:
        return self.by_pointer.get(pointer)

    def class_of(self, schema: str) -> str:
        """The class or alias of a component or synthesized schema, as datamodel-code-generator
        named it (`NoneArguments` for `None_Arguments`)."""
        return self.by_pointer.get(component_pointer(schema), schema)

    def origin(self, name: str) -> str:
        """`module.name` of what `name` is bound to by an import (`datetime.date` for
        `date_aliased`), else `name` itself (a class or alias of the module)."""
        return _dotted(self.imports[name]) if name in self.imports else name


def pydantic_view(schema: Any, resolve: Any = None) -> Any:
    """A copy of `schema` without the keywords the generated checks enforce alone; readOnly and
    writeOnly properties are optional (each is required in one direction only)."""
    if isinstance(schema, list):
        return [pydantic_view(s, resolve) for s in schema]
    if not isinstance(schema, dict):
        return schema
    view: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "required" and isinstance(value, list) and isinstance(schema.get("properties"), dict):
            view[key] = required_in(schema, "", resolve)
            continue
        if key in CHECK_ONLY or (key in ("oneOf", "anyOf") and required_only(value)):
            continue
        if key == "format" and value not in TYPED_FORMATS:
            continue
        if key in SCHEMA_CHILDREN:
            view[key] = pydantic_view(value, resolve)
        elif key in SCHEMA_LISTS and isinstance(value, list):
            view[key] = [pydantic_view(v, resolve) for v in value]
        elif key in SCHEMA_MAPS and isinstance(value, dict):
            view[key] = {k: pydantic_view(v, resolve) for k, v in value.items()}
        else:
            view[key] = value
    _distribute_siblings(view)
    if is_polymorphic_base(schema):
        # The base of an allOf hierarchy: becomes the subtype its discriminator names (see
        # PolymorphicModel), and keeps unknown subtypes' properties (model_extra).
        view.setdefault("additionalProperties", True)
        view["customBasePath"] = "codegen.runtime.PolymorphicModel"
    if "patternProperties" in view:
        # Keys matching a pattern are allowed; the checks decide what else is.
        view.pop("patternProperties")
        if view.get("additionalProperties") is not None:
            view.pop("additionalProperties")
    return view


# Keywords that constrain one JSON type each, by that type.
_TYPED_KEYWORDS = {
    "array": ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains"),
    "object": ("properties", "additionalProperties", "required", "minProperties", "maxProperties"),
    "string": ("minLength", "maxLength", "pattern", "format"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
}


def _distribute_siblings(view: dict[str, Any]) -> None:
    """`{items: ..., oneOf: [{type: array}, {type: string}]}` as `{oneOf: [{type: array, items:
    ...}, {type: string}]}`: the same schema (each keyword constrains its own type only), which
    datamodel-code-generator types as the union of its alternatives (it reads the first form as
    an array only)."""
    if "type" in view:
        return
    for key in ("oneOf", "anyOf"):
        branches = view.get(key)
        if not isinstance(branches, list) or not all(isinstance(b, dict) and isinstance(b.get("type"), str) and "$ref" not in b for b in branches):
            continue
        if len({b["type"] for b in branches}) < 2:
            continue
        siblings = {k: view.pop(k) for keys in _TYPED_KEYWORDS.values() for k in keys if k in view}
        if siblings:
            kinds = {"integer": "number"}
            view[key] = [
                {**{k: v for k, v in siblings.items() if k in _TYPED_KEYWORDS.get(kinds.get(b["type"], b["type"]), ())}, **b}
                for b in branches
            ]
        return


def is_polymorphic_base(schema: Any) -> bool:
    """A schema with a discriminator and properties of its own, not a oneOf/anyOf: the base
    that subtypes extend through `allOf`."""
    return isinstance(schema, dict) and isinstance(schema.get("discriminator"), dict) and "properties" in schema and not {"oneOf", "anyOf"} & set(schema)


def subtypes(model_schemas: dict[str, Any]) -> dict[str, tuple[str, dict[str, str]]]:
    """Per polymorphic base: its discriminator property and the schema each value names (the
    mapping's, then each schema extending the base through `allOf`, by its own name)."""
    found = {}
    for base, schema in model_schemas.items():
        if not is_polymorphic_base(schema):
            continue
        discriminator = schema["discriminator"]
        table: dict[str, str] = {}
        for value, ref in (discriminator.get("mapping") or {}).items():
            target = schema_name(ref) or ref
            if target in model_schemas and target != base:
                table[str(value)] = target
        for name, other in model_schemas.items():
            parts = other.get("allOf") if isinstance(other, dict) else None
            if name not in table.values() and isinstance(parts, list) and any(isinstance(p, dict) and schema_name(p.get("$ref")) == base for p in parts):
                table.setdefault(name, name)
        if table and isinstance(discriminator.get("propertyName"), str):
            found[base] = (discriminator["propertyName"], table)
    return found


def subtype_classes(model_schemas: dict[str, Any], models: Models) -> dict[str, tuple[str, dict[str, str]]]:
    """`subtypes` by class: per polymorphic base class, its discriminator property and the
    class each value names (bases with a value of no class are left out)."""
    classes = {}
    for base, (prop, values) in subtypes(model_schemas).items():
        names = {value: models.by_pointer.get(component_pointer(name)) for value, name in values.items()}
        base_class = models.by_pointer.get(component_pointer(base))
        if base_class and all(names.values()):
            classes[base_class] = (prop, {value: str(name) for value, name in names.items()})
    return classes


def models_document(model_schemas: dict[str, Any], title: str, renamed: dict[str, str] | None = None) -> dict[str, Any]:
    """The OpenAPI document datamodel-code-generator reads: the schemas' `pydantic_view`s, under
    the `renamed` names where given (default: `safe_names`)."""

    def resolve(ref: str) -> Any:
        name = schema_name(ref)
        return model_schemas.get(name) if name is not None else None

    renamed = safe_names(model_schemas) if renamed is None else renamed
    views = {renamed.get(name, name): _renamed_refs(pydantic_view(s, resolve), renamed) for name, s in model_schemas.items()}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "0"},
        "paths": {},
        "components": {"schemas": views},
    }


def generate_models(document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """datamodel-code-generator's models module (not yet formatted) and its model metadata."""
    from datamodel_code_generator import InputFileType, generate

    with tempfile.TemporaryDirectory() as tmp:
        metadata_path = Path(tmp) / "metadata.json"
        source = generate(
            document,
            input_file_type=InputFileType.OpenAPI,
            emit_model_metadata=metadata_path,
            # A folder without pyproject.toml: the user's [tool.black] or [tool.isort] must not
            # change the output.
            settings_path=Path(tmp),
            **OPTIONS,
        )
        metadata = json.loads(metadata_path.read_text()) if metadata_path.exists() else {"models": []}
    assert isinstance(source, str)
    return source, metadata


def format_models(source: str) -> str:
    """`source` laid out by datamodel-code-generator's builtin formatter, as `generate` would."""
    from datamodel_code_generator.format import CodeFormatter, Formatter, PythonVersion

    with tempfile.TemporaryDirectory() as tmp:  # no pyproject.toml to read settings from
        formatter = CodeFormatter(
            PythonVersion(OPTIONS["target_python_version"]),
            settings_path=Path(tmp),
            skip_string_normalization=not OPTIONS["use_double_quotes"],
            formatters=[Formatter.BUILTIN],
            builtin_format_line_length=LINE_LENGTH,
        )
        return formatter.format_code(source)


def finish_run(source: str, head: str, tail: str, formatted: bool) -> str:
    """A run of the generated module after `head` and before `tail` (our own code), as black
    lays it out when `formatted`, else as datamodel-code-generator's formatter does."""
    from .format import format_layout, format_source

    lines = _merged_imports(format_models(source)).splitlines()
    while head and lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)  # the generator's own header comments
    text = head + "\n".join(lines) + "\n"
    if not formatted:
        return text + tail
    if tail and "class " not in text:  # nothing but imports: black decides the lines between
        return format_source(text + tail)
    return format_layout(text, relayout=True) + (format_layout(tail) if tail else "")


def _merged_imports(source: str) -> str:
    """`source` with the names a module imports under their own names in one statement, as
    isort (and ruff) want: datamodel-code-generator's formatter leaves them split around the
    names it imports under aliases (`from pydantic import ConfigDict`, `... Field as
    Field_aliased`, `... StrictBool`)."""
    from .text import isort_names

    lines = source.splitlines(keepends=True)
    block = "".join(lines[: _import_block_end(lines)])
    if " as " not in block:
        return source
    plain: dict[tuple[int, str], list[ast.ImportFrom]] = {}
    for node in ast.parse(block).body:
        if isinstance(node, ast.ImportFrom) and not any(alias.asname for alias in node.names):
            plain.setdefault((node.level, node.module or ""), []).append(node)
    for (level, module), nodes in sorted(plain.items(), key=lambda item: -item[1][0].lineno):
        if len(nodes) < 2:
            continue
        names = isort_names({alias.name for node in nodes for alias in node.names})
        statement = f"from {'.' * level}{module} import {', '.join(names)}"
        if len(statement) > LINE_LENGTH:
            statement = f"from {'.' * level}{module} import (\n" + "".join(f"    {name},\n" for name in names) + ")"
        for node in reversed(nodes[1:]):
            del lines[node.lineno - 1 : node.end_lineno or node.lineno]
        first = nodes[0]
        lines[first.lineno - 1 : first.end_lineno or first.lineno] = [statement + "\n"]
    return "".join(lines)


def _import_block_end(lines: list[str]) -> int:
    """The index of the line after a module's leading imports (and the comments among them)."""
    end = depth = 0
    for i, line in enumerate(lines):
        if depth == 0 and line.strip() and not line.startswith(("from ", "import ", "#")):
            break
        depth += line.count("(") - line.count(")")
        if depth == 0 and line.strip():
            end = i + 1
    return end


def models_file(
    models: Models, head: str, tail: str, workers: Workers | None = None, *, formatted: bool = True, store: Store | None = None
) -> str:
    """The models module: `head`, the imports the classes need, the classes part by part (each
    finished in its part's run), the `model_rebuild()` calls, then `tail`, exactly as black lays
    them out (unless not `formatted`). The head and the tail, laid out, are kept in `store`
    (an edit seldom changes them: the run then needs neither formatter)."""
    imports = ["from __future__ import annotations", *_import_lines(models.imports), "", *OWN_IMPORTS]
    source = "\n".join(imports) + "\n"

    def stored(kind: str, make: Callable[[], str], *inputs: Any) -> str:
        key = store.key(kind, formatted, *inputs) if store is not None else ""
        text = store.get(key, lambda v: isinstance(v, str)) if store is not None else None
        if text is None:
            text = make()
            if store is not None:
                store.put(key, text)
        return str(text)

    if not models.blocks:
        return stored("models-module", lambda: finish_run(source, head, tail, formatted), source, head, tail)
    runs = [*models.blocks]
    if models.rebuild:
        runs.append("\n".join(models.rebuild))
    runs.append(stored("models-tail", lambda: format_tail(tail, formatted), tail))
    body = "\n\n\n".join(run.strip("\n") for run in runs if run.strip("\n"))
    # Black's blank lines after the imports: two before a class, one before anything else.
    gap = "\n\n\n" if body.startswith(("class ", "@", "def ")) else "\n\n"
    return stored("models-head", lambda: finish_run(source, head, "", formatted), source, head).rstrip("\n") + gap + body + "\n"


def format_tail(tail: str, formatted: bool) -> str:
    from .format import format_layout

    return format_layout(tail) if formatted else tail


def _import_lines(table: dict[str, tuple[str, str]]) -> list[str]:
    """One `from module import name [as local]` line per imported name (the formatter merges
    and sorts them)."""
    lines = []
    for local, (module, name) in sorted(table.items(), key=lambda item: (item[1], item[0])):
        if module in ("", "__future__"):
            lines.append(f"import {name}" + (f" as {local}" if local != name.split(".")[0] else ""))
        else:
            lines.append(f"from {module} import {name}" + (f" as {local}" if local != name else ""))
    return lines


def generate_part(document: dict[str, Any], owned: list[str], formatted: bool) -> dict[str, Any]:
    """One part's run (see `parts`): datamodel-code-generator on `document` (the schemas
    `owned` and their closure), keeping the classes of the schemas `owned`, finished (formatted
    unless not `formatted`), with what `Models` needs to know of them, as JSON values."""
    source, metadata = generate_models(document)
    source = enum_members_in_defaults(_merged_literals(_builtin_generics(_escape_line_breaks(source))))
    mine = set(owned)
    schema_of: dict[str, str] = {}
    paths: dict[str, list[str]] = {}
    for entry in metadata.get("models", []):
        path = [str(t) for t in entry.get("source_path", [])]
        if path[:2] == ["components", "schemas"] and len(path) > 2:
            schema_of[entry["class_name"]] = path[2]
            paths[entry["class_name"]] = path
    tree = ast.parse(source)
    table = _import_table(tree)
    blocks, rebuilt = _blocks(tree)
    rebuild = [line for name, line in rebuilt if schema_of.get(name) in mine]
    kept = [(name, a, b) for name, a, b in blocks if schema_of.get(name) in mine]
    lines = source.splitlines(keepends=True)
    text = "".join("".join(lines[a - 1 : b]) + "\n\n" for _, a, b in kept)
    names = {name for name, _, _ in kept}
    used: set[str] = set()
    for node in tree.body:
        if _defined_name(node) in names:
            used |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    for line in rebuild:
        used |= {n.id for n in ast.walk(ast.parse(line)) if isinstance(n, ast.Name)}
    imports = sorted([module, name, local] for local, (module, name) in table.items() if local in used and module != "__future__")
    models = Models(source=text)
    _read_source(models, {local: table[local] for local in sorted(used) if local in table})
    finished: list[list[str]] = []
    if text:
        text = finish_run(text, "", "", formatted)
        from .verify import compile_error

        error = compile_error("models.py", text)
        if error is not None:
            return {"error": error}
        lines = text.splitlines(keepends=True)
        finished = [[name, "".join(lines[a - 1 : b])] for name, a, b in _blocks(ast.parse(text))[0]]
    return {
        "blocks": finished,
        "rebuild": rebuild,
        "classes": {name: schema_of[name] for name, _, _ in kept},
        "closure_classes": {name: schema for name, schema in schema_of.items() if schema not in mine},
        "paths": {name: paths[name] for name, _, _ in kept},
        "imports": imports,
        "kinds": models.kinds,
        "fields": {name: [[f.name, f.annotation, f.default, f.alias] for f in fields] for name, fields in models.fields.items()},
        "enum_members": {name: sorted(members.items()) for name, members in models.enum_members.items()},
        "mutable": models.mutable_class_values,
    }


def _blocks(tree: ast.Module) -> tuple[list[tuple[str, int, int]], list[tuple[str, str]]]:
    """The top-level definitions of generated models, (name, first line, last line) each with
    the docstrings after it, and the `model_rebuild()` calls, (name, line) each."""
    blocks: list[tuple[str, int, int]] = []
    rebuild: list[tuple[str, str]] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
        last = node.end_lineno or node.lineno
        name = _defined_name(node)
        rebuilt = _rebuilt(node)
        if name is not None:
            blocks.append((name, first, last))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and blocks:
            blocks[-1] = (blocks[-1][0], blocks[-1][1], last)  # an attribute docstring
        elif rebuilt is not None:
            rebuild.append((rebuilt, ast.unparse(node)))
        else:
            raise ValueError(f"unexpected statement in the generated models: {ast.unparse(node)[:80]}")
    return blocks, rebuild


def _defined_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.ClassDef):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _rebuilt(node: ast.stmt) -> str | None:
    """`X` of a top-level `X.model_rebuild()`."""
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr == "model_rebuild"
        and isinstance(node.value.func.value, ast.Name)
    ):
        return node.value.func.value.id
    return None


def _valid_part(value: Any) -> bool:
    return isinstance(value, dict) and {"blocks", "rebuild", "classes", "closure_classes", "paths", "imports", "kinds", "fields", "enum_members", "mutable"} <= set(value)


class _Views:
    """The `pydantic_view` of each schema (under its safe name), its digest and the schemas it
    references, made once a run. A view is a function of its schema, the schemas `resolve`
    reads for it and the renaming: for a schema whose digest the caller knows (a component
    schema: `ir.Api.digests`), the memo keeps its view's digest and references under that
    digest, beside the digests of what it read; a run where those still hold takes them from
    the memo, and makes the view itself only for a part of the models rendered again."""

    def __init__(self, model_schemas: dict[str, Any], renamed: dict[str, str], known: dict[str, str], memo: Memo | None) -> None:
        self.model_schemas = model_schemas
        self.renamed = renamed
        self.safe = {renamed.get(name, name): name for name in model_schemas}
        self.views: dict[str, Any] = {}
        self.digests: dict[str, str] = {}
        self.refs: dict[str, list[str]] = {}  # every schema name a view refers to, first seen first
        renaming = json_digest(sorted(renamed.items()))
        for name, schema in model_schemas.items():
            safe = renamed.get(name, name)
            digest = known.get(name) if memo is not None else None
            key = f"{digest}\0{safe}\0{renaming}"
            entry = memo.peek(key) if memo is not None and digest is not None else None
            if (
                isinstance(entry, list)
                and len(entry) == 3
                and isinstance(entry[0], list)
                and all(isinstance(r, list) and len(r) == 2 and known.get(r[0]) == r[1] for r in entry[0])
                and isinstance(entry[1], str)
                and isinstance(entry[2], list)
            ):
                assert memo is not None
                memo.get(key)  # used: kept for the next run
                self.digests[safe], self.refs[safe] = entry[1], entry[2]
                continue
            read: dict[str, None] = {}
            view = self._make(schema, read)
            self.views[safe] = view
            self.digests[safe] = json_digest(view)
            self.refs[safe] = referenced(view)
            if memo is not None and digest is not None and all(r in known for r in read):
                memo.put(key, [[[r, known[r]] for r in read], self.digests[safe], self.refs[safe]])

    def _make(self, schema: Any, read: dict[str, None]) -> Any:
        def resolve(ref: str) -> Any:
            name = schema_name(ref)
            if name is None:
                return None
            read[name] = None
            return self.model_schemas.get(name)

        return _renamed_refs(pydantic_view(schema, resolve), self.renamed)

    def view(self, safe: str) -> Any:
        """The view of the schema named `safe`."""
        if safe not in self.views:
            self.views[safe] = self._make(self.model_schemas[self.safe[safe]], {})
        return self.views[safe]

    def edges(self) -> dict[str, list[str]]:
        """The schemas each view references directly, first seen first (`parts.references`)."""
        return {name: [r for r in refs if r in self.digests] for name, refs in self.refs.items()}


def render_models(
    model_schemas: dict[str, Any],
    title: str,
    workers: Workers | None = None,
    *,
    store: Store | None = None,
    formatted: bool = True,
    submitted: threading.Event | None = None,
    digests: dict[str, str] | None = None,
) -> Models:
    """The models of the given component and synthesized schemas, generated in parts (see
    `parts`): each part's run in a worker process when `workers` run in parallel (so the
    generator's memory never adds to this process's), or served from `store`. `submitted` is
    set once the first parts are with the workers (or the models are done). `digests` gives
    the digest of schemas known to the caller, by name: their views are taken from the memo
    (`_Views`)."""
    try:
        return _render_models(model_schemas, title, workers, store, formatted, submitted, digests or {})
    finally:
        if submitted is not None:
            submitted.set()


def _render_models(
    model_schemas: dict[str, Any],
    title: str,
    workers: Workers | None,
    store: Store | None,
    formatted: bool,
    submitted: threading.Event | None,
    known: dict[str, str],
) -> Models:
    from . import parts as plan

    if not model_schemas:
        # datamodel-code-generator refuses an empty input; a spec without schemas has no models.
        return Models(source="")
    reserved: set[str] = set()
    while True:
        renamed = safe_names(model_schemas, reserved)
        original = {safe: name for name, safe in renamed.items()}
        views = _Views(model_schemas, renamed, known, store.memo("views") if store is not None else None)
        names = list(views.digests)
        position = {n: i for i, n in enumerate(names)}
        edges = views.edges()
        parts = plan.plan(names, edges)
        done: dict[tuple[str, ...], dict[str, Any]] = {}  # by the schemas a part owns, this run
        while True:
            results = _run_parts(parts, views, edges, workers, store, formatted, done, submitted)
            owner = {n: i for i, part in enumerate(parts) for n in part}
            joined = plan.conflicts(
                [
                    {
                        "classes": r["classes"],
                        "closure_classes": r["closure_classes"],
                        "blocks": dict(r["blocks"]),
                        "bindings": {local: f"{module}.{name}" for module, name, local in r["imports"]},
                    }
                    for r in results
                ],
                owner.__getitem__,
            )
            if not joined:
                break
            parts = plan.merged(parts, joined, edges, position)
        # A schema whose class took the name of the table the tail defines is renamed (rare).
        taking = {original.get(r["classes"][ADAPTERS], r["classes"][ADAPTERS]) for r in results if ADAPTERS in r["classes"]}
        if not taking - reserved:
            break
        reserved |= taking
    models = Models(source="")
    written: set[str] = set()
    for result in results:
        for name, path in result["paths"].items():
            path = list(path)
            path[2] = original.get(path[2], path[2])
            pointer = "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in path)
            models.pointers.setdefault(name, pointer)
            models.by_pointer.setdefault(pointer, name)
        models.kinds.update(result["kinds"])
        for name, fields in result["fields"].items():
            models.fields[name] = [Field(name=f[0], annotation=f[1], default=f[2], alias=f[3]) for f in fields]
        for name, members in result["enum_members"].items():
            models.enum_members[name] = {key: member for key, member in members}
        for module, name, local in result["imports"]:
            models.imports[local] = (module, name)
        models.mutable_class_values |= result["mutable"]
        # A class several parts define alike (datamodel-code-generator shares an enum among the
        # schemas that declare it alike under one name) is written once, where it first comes.
        models.blocks.extend(text for name, text in result["blocks"] if name not in written)
        written |= {name for name, _ in result["blocks"]}
        models.rebuild.extend(line for line in result["rebuild"] if line not in models.rebuild)
    return models


def _run_parts(
    parts: list[list[str]],
    views: _Views,
    edges: dict[str, list[str]],
    workers: Workers | None,
    store: Store | None,
    formatted: bool,
    done: dict[tuple[str, ...], dict[str, Any]],
    submitted: threading.Event | None = None,
) -> list[dict[str, Any]]:
    """Each part's result: from `done` (this run's), from the store, or rendered now."""
    from ..errors import GeneratedCodeError
    from . import parts as plan

    position = {n: i for i, n in enumerate(views.digests)}
    unreadable: set[tuple[str, ...]] = set()
    digest = views.digests.__getitem__

    pending = [owned for owned in parts if tuple(owned) not in done]
    while pending:
        stored: list[tuple[tuple[str, ...], str]] = []
        missing: list[tuple[tuple[str, ...], str, dict[str, Any]]] = []
        for owned in pending:
            reads = sorted(set(owned) | plan.closure(owned, edges), key=position.__getitem__)
            # Keyed by the digest of each schema it reads (each schema serialized once a run,
            # not once for every part that reads it).
            key = store.key("models", OPTIONS, formatted, owned, [[n, digest(n)] for n in reads]) if store is not None else ""
            if store is not None and tuple(owned) not in unreadable and store.has(key):
                stored.append((tuple(owned), key))
                continue
            document = {
                "openapi": "3.1.0",
                "info": {"title": "models", "version": "0"},
                "paths": {},
                "components": {"schemas": {n: views.view(n) for n in reads}},
            }
            missing.append((tuple(owned), key, document))
        calls = _submit_parts(missing, workers, formatted)
        if submitted is not None:
            submitted.set()
        # The stored parts are read while the workers render the others; one that does not
        # read back whole is rendered in the next round.
        pending = []
        for mine, key in stored:
            cached = store.get(key, _valid_part) if store is not None else None
            if cached is None:
                unreadable.add(mine)
                pending.append(list(mine))
            else:
                done[mine] = cached
        for batch, call in calls:
            results = call if isinstance(call, list) else call.result()
            for (mine, key, _), result in zip(batch, results, strict=True):
                if "error" in result:
                    raise GeneratedCodeError(result["error"])
                if store is not None:
                    store.put(key, result)
                done[mine] = result
    return [done[tuple(owned)] for owned in parts]


def _submit_parts(
    missing: list[tuple[tuple[str, ...], str, dict[str, Any]]], workers: Workers | None, formatted: bool
) -> list[tuple[list[tuple[tuple[str, ...], str, dict[str, Any]]], Any]]:
    """The runs of the `missing` parts, in batches of about BATCH schemas (a small spec's in one
    call, to the one worker already started, a large spec's across all): (batch, its results
    or their future)."""
    batches: list[list[tuple[tuple[str, ...], str, dict[str, Any]]]] = [[]]
    size = 0
    for item in missing:
        if size >= BATCH:
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += len(item[2]["components"]["schemas"])
    calls: list[tuple[list[tuple[tuple[str, ...], str, dict[str, Any]]], Any]] = []
    for index, batch in enumerate(b for b in batches if b):
        jobs = [[document, list(mine)] for mine, _, document in batch]
        # The first batch to the worker that imported datamodel-code-generator first (lane 0).
        lane = 0 if index == 0 else None
        calls.append((batch, generate_parts(jobs, formatted) if workers is None else workers.submit(generate_parts, jobs, formatted, lane=lane)))
    return calls


def generate_parts(jobs: list[list[Any]], formatted: bool) -> list[dict[str, Any]]:
    """`generate_part` of each (document, owned) of `jobs`, in one call to a worker."""
    return [generate_part(document, owned, formatted) for document, owned in jobs]


def safe_names(model_schemas: dict[str, Any], reserved: Collection[str] = ()) -> dict[str, str]:
    """A new name for each schema name with dots (which datamodel-code-generator would read as
    modules: `pet.v1` -> `pet_v1`) or in `reserved` (`ADAPTERS` -> `ADAPTERSModel`), unique
    among all names."""
    taken = set(model_schemas)
    renamed = {}
    for name in model_schemas:
        if "." in name or name in reserved:
            safe = base = name.replace(".", "_") + ("Model" if name in reserved else "")
            counter = 1
            while safe in taken:
                counter += 1
                safe = f"{base}_{counter}"
            taken.add(safe)
            renamed[name] = safe
    return renamed


def _renamed_refs(schema: Any, renamed: dict[str, str]) -> Any:
    """`schema` with its `$ref`s to renamed schemas following them."""
    if not renamed:
        return schema
    if isinstance(schema, list):
        return [_renamed_refs(s, renamed) for s in schema]
    if not isinstance(schema, dict):
        return schema
    result = {k: _renamed_refs(v, renamed) for k, v in schema.items()}
    target = schema_name(schema.get("$ref"))
    if target in renamed:
        result["$ref"] = ref_to(component_pointer(renamed[target]))
    return result


# Characters str.splitlines() breaks at besides \n and \r: black's tokenizer would split a string
# literal there. datamodel-code-generator writes them raw into strings and docstrings.
_LINE_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _escape_line_breaks(source: str) -> str:
    """The same module with those characters written as escapes (they only occur in strings)."""
    return _LINE_BREAKS.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) <= 0xFF else f"\\u{ord(m.group()):04x}", source)


# What generated code names, by where it comes from (whatever name the module imports it under).
ENUM_BASES = {"enum.Enum", "enum.StrEnum", "enum.IntEnum"}
TYPE_ALIAS_TYPE = {"typing_extensions.TypeAliasType", "typing.TypeAliasType"}
TYPE_ALIAS = {"typing_extensions.TypeAlias", "typing.TypeAlias"}
ANNOTATED = {"typing.Annotated", "typing_extensions.Annotated"}
LIST = {"list", "builtins.list", "typing.List"}


def _import_table(tree: ast.Module) -> dict[str, tuple[str, str]]:
    """Each name the module's imports bind -> (module, imported name)."""
    table = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                table[alias.asname or alias.name] = (module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                table[alias.asname or alias.name.split(".")[0]] = ("", alias.name if alias.asname else alias.name.split(".")[0])
    return table


def _dotted(binding: tuple[str, str]) -> str:
    module, name = binding
    return f"{module}.{name}" if module else name


def _origin(expr: ast.expr, table: dict[str, tuple[str, str]]) -> str:
    """`module.name` of an imported name (`datetime.date` for `date_aliased`), else the
    expression's source."""
    if isinstance(expr, ast.Name) and expr.id in table:
        return _dotted(table[expr.id])
    return ast.unparse(expr)


def _unparse(node: ast.AST | None) -> str | None:
    return None if node is None else ast.unparse(node)


def enum_members_in_defaults(source: str) -> str:
    """`= ["a"]` defaults of fields typed by enums (through unions, lists and aliases) written
    as the members they stand for, `= [Mode.a]`, as the field's type says."""
    tree = ast.parse(source)
    table = _import_table(tree)
    enums: dict[str, dict[str, str]] = {}
    aliases: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and {_origin(b, table) for b in node.bases} & ENUM_BASES:
            enums[node.name] = {
                stmt.value.value: stmt.targets[0].id
                for stmt in node.body
                if isinstance(stmt, ast.Assign)
                and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Constant)
                and isinstance(stmt.value.value, str)
            }
        elif (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call)
            and _origin(node.value.func, table) in TYPE_ALIAS_TYPE
            and len(node.value.args) > 1
        ):
            aliases[node.targets[0].id] = node.value.args[1]

    def enums_in(expr: ast.expr, seen: set[str], in_list: bool, listed: bool = False) -> set[str]:
        """Enums the annotation names as items of a list (`in_list`) or as plain values."""
        found: set[str] = set()
        if isinstance(expr, ast.Name):
            if expr.id in enums and listed == in_list:
                found.add(expr.id)
            elif expr.id in aliases and expr.id not in seen:
                found |= enums_in(aliases[expr.id], seen | {expr.id}, in_list, listed)
            return found
        if isinstance(expr, ast.Subscript) and _origin(expr.value, table) in LIST:
            return enums_in(expr.slice, seen, in_list, True)
        for child in ast.iter_child_nodes(expr):
            if isinstance(child, ast.expr):
                found |= enums_in(child, seen, in_list, listed)
        return found

    def member(value: str, candidates: set[str]) -> str | None:
        owners = sorted(e for e in candidates if value in enums[e])
        return f"{owners[0]}.{enums[owners[0]][value]}" if len(owners) == 1 else None

    edits: list[tuple[ast.expr, str]] = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for stmt in node.body:
            if not (isinstance(stmt, ast.AnnAssign) and stmt.value is not None):
                continue
            value = stmt.value
            strings = [value] if isinstance(value, ast.Constant) else value.elts if isinstance(value, ast.List) else []
            if not strings or not all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in strings):
                continue
            candidates = enums_in(stmt.annotation, set(), isinstance(value, ast.List))
            members = [member(e.value, candidates) for e in strings]  # type: ignore[attr-defined]
            if candidates and all(members):
                text = members[0] if isinstance(value, ast.Constant) else "[" + ", ".join(members) + "]"  # type: ignore[arg-type]
                edits.append((value, str(text)))
    if not edits:
        return source
    lines = source.splitlines(keepends=True)
    for value, text in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        start, end = value.lineno - 1, (value.end_lineno or value.lineno) - 1
        head = lines[start].encode()[: value.col_offset].decode()
        tail = lines[end].encode()[value.end_col_offset :].decode()
        lines[start : end + 1] = [head + text + tail]
    return "".join(lines)


def _builtin_generics(source: str) -> str:
    """`dict[...]` where datamodel-code-generator writes `typing.Dict[...]` (typed extras)."""
    pattern = re.compile(r"""(['"]__pydantic_extra__['"]: )Dict\[""")
    if not pattern.search(source):
        return source
    source = pattern.sub(r"\1dict[", source)
    if not re.search(r"\bDict\[", source):
        from .text import drop_import

        source = drop_import(source, "typing", "Dict")
    return source


def _merged_literals(source: str) -> str:
    """One `Literal[a, b]` where a union lists `Literal[a] | Literal[b]` (an anyOf/oneOf of
    several `const` branches), as linters ask."""
    if source.count("Literal[") < 2:
        return source
    tree = ast.parse(source)
    data = source.encode()  # ast's column offsets count UTF-8 bytes
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    replaced: list[tuple[int, int, str]] = []

    def members(node: ast.expr) -> list[ast.expr]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return [*members(node.left), *members(node.right)]
        return [node]

    def is_literal(node: ast.expr) -> bool:
        return isinstance(node, ast.Subscript) and ast.unparse(node.value) == "Literal"

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            union = members(node)
            literals = [m for m in union if is_literal(m)]
            if len(literals) > 1:
                values = [v for m in literals for v in (m.slice.elts if isinstance(m.slice, ast.Tuple) else [m.slice])]  # type: ignore[attr-defined]
                merged = "Literal[" + ", ".join(ast.unparse(v) for v in values) + "]"
                parts = [merged if m is literals[0] else ast.unparse(m) for m in union if m is literals[0] or not is_literal(m)]
                start = starts[node.lineno - 1] + node.col_offset
                end = starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[operator]
                replaced.append((start, end, " | ".join(parts)))
                return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    for start, end, text in sorted(replaced, reverse=True):
        data = data[:start] + text.encode() + data[end:]
    return data.decode()


def _read_source(models: Models, table: dict[str, tuple[str, str]]) -> None:
    """Fields, enum members and aliases, read from the generated classes (never run), whose
    module imports `table` (name -> (module, imported name))."""
    tree = ast.parse(models.source)
    models.mutable_class_values = any(
        isinstance(stmt, (ast.Assign, ast.AnnAssign))
        and isinstance(stmt.value, (ast.List, ast.Dict, ast.Set))
        # `__annotations__ = {...}` (typed extras) is no shared class value
        and not any(isinstance(t, ast.Name) and t.id.startswith("__") for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]))
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        for stmt in node.body
    )
    models.imports = table
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            if {_origin(b, table) for b in node.bases} & ENUM_BASES:
                models.kinds[node.name] = "enum"
                members: dict[Any, str] = {}
                for stmt in node.body:
                    if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                        try:
                            members[_freeze(ast.literal_eval(stmt.value))] = stmt.targets[0].id
                        except ValueError:
                            continue
                models.enum_members[node.name] = members
                continue
            models.kinds[node.name] = "model"
            fields: list[Field] = []
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    name = stmt.target.id
                    if name.startswith("__") or name == "model_config":
                        continue
                    annotation, alias = _field_type(stmt.annotation, table)
                    fields.append(Field(name=name, annotation=annotation, default=_unparse(stmt.value), alias=alias))
            models.fields[node.name] = fields
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and _origin(value.func, table) in TYPE_ALIAS_TYPE:
                models.kinds[node.targets[0].id] = "alias"
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and _origin(node.annotation, table) in TYPE_ALIAS
        ):
            models.kinds[node.target.id] = "alias"


def _field_type(annotation: ast.expr, table: dict[str, tuple[str, str]]) -> tuple[str, str | None]:
    """The type of a field without `Annotated[...]` metadata, and its alias if any."""
    alias = None
    if isinstance(annotation, ast.Subscript) and _origin(annotation.value, table) in ANNOTATED:
        elements = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        for meta in elements[1:]:
            if isinstance(meta, ast.Call) and _origin(meta.func, table) == "pydantic.Field":
                for kw in meta.keywords:
                    if kw.arg in ("alias", "validation_alias") and isinstance(kw.value, ast.Constant):
                        alias = str(kw.value.value)
        return ast.unparse(elements[0]), alias
    return ast.unparse(annotation), alias


def _freeze(value: Any) -> Any:
    return json.dumps(value, sort_keys=True)


def component_pointer(name: str) -> str:
    return "/components/schemas/" + name.replace("~", "~0").replace("/", "~1")


def pointer_name(pointer: str) -> str:
    return split_pointer(pointer)[-1]
