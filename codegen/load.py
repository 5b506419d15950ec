"""Stage 1, load: spec text -> one checked OpenAPI document.

Reads YAML or JSON safely, pulls relative-file `$ref`s into the document (never leaving the
spec's folder unless a directory is allowed), checks every local `$ref`, the OpenAPI version and
the document against the OpenAPI schema. Every problem is a `SpecError` with file, JSON pointer,
line and column.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError, SpecErrors, pointer, split_pointer

# Keys under which a child is itself a JSON Schema, when its parent is one.
SCHEMA_CHILD_KEYS = {
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
}
SCHEMA_LIST_KEYS = {"allOf", "anyOf", "oneOf", "prefixItems"}
SCHEMA_MAP_KEYS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}


class _SpecLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader (libyaml when available) keeping dates as strings and keys as strings."""


# JSON has no dates: a YAML timestamp stays the string it was written as.
_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _SpecLoader, node: yaml.MappingNode) -> dict[str, Any]:
    loader.flatten_mapping(node)
    mapping: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, bool):
            key = "true" if key else "false"
        elif key is None:
            key = "null"
        elif not isinstance(key, str):
            key = str(key)
        if key in mapping:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_SpecLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True)
class Document:
    """A loaded, bundled and checked OpenAPI document."""

    path: Path
    data: dict[str, Any]
    version: str  # "3.0" or "3.1"
    fingerprint: str  # sha256 over every file that was read
    sources: tuple[Path, ...]


def read_file(path: Path) -> Any:
    """Parse one YAML or JSON file; a syntax error becomes a located SpecError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"file not found: {path}", file=path, hint="check the --spec path") from None
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc.strerror}", file=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"the file is not UTF-8 (byte {exc.start})", file=path, hint="save the spec as UTF-8"
        ) from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(
                f"invalid JSON: {exc.msg}",
                file=path,
                line=exc.lineno,
                column=exc.colno,
                hint="fix the JSON syntax at that position",
            ) from None
    try:
        return yaml.load(text, Loader=_SpecLoader)  # noqa: S506 - _SpecLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "syntax error"
        raise SpecError(
            f"invalid YAML: {problem}",
            file=path,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint="fix the YAML syntax at that position",
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", file=path) from None


def locate(path: Path, ptr: str) -> tuple[int, int] | None:
    """Line and column (1-based) of the node at `ptr` in a YAML or JSON file, if found."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    try:
        tokens = split_pointer(ptr)
    except ValueError:
        return None
    best = node
    for token in tokens:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == token:
                    node = value_node
                    best = key_node
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and token.isdigit() and int(token) < len(node.value):
            node = node.value[int(token)]
            best = node
        else:
            break
    if best is None:
        return None
    return best.start_mark.line + 1, best.start_mark.column + 1


def resolve_pointer(data: Any, ptr: str) -> Any:
    """The value at JSON pointer `ptr` (with or without a leading '#'); KeyError if absent."""
    node = data
    for token in split_pointer(ptr):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(token)
    return node


def _located(error: SpecError) -> SpecError:
    if error.file is not None and error.line is None and error.pointer:
        place = locate(error.file, error.pointer)
        if place:
            error.line, error.column = place
    return error


class _Bundler:
    """Pulls relative-file `$ref`s into the root document.

    A schema referenced in another file becomes a component under `components/schemas` (so
    recursion and names survive); anything else is copied in place.
    """

    def __init__(self, root: Path, data: dict[str, Any], allowed_dirs: tuple[Path, ...]) -> None:
        self.root = root
        self.data = data
        self.roots = (root.parent.resolve(), *(d.resolve() for d in allowed_dirs))
        self.files: dict[Path, Any] = {root.resolve(): data}
        self.hoisted: dict[tuple[Path, str], str] = {}
        self.inlining: set[tuple[Path, str]] = set()

    def bundle(self) -> None:
        self._walk(self.data, self.root.resolve(), "", in_schema=False)

    def _file(self, path: Path, used_at: tuple[Path, str]) -> Any:
        resolved = path.resolve()
        if resolved not in self.files:
            if not any(resolved.is_relative_to(r) for r in self.roots):
                raise SpecError(
                    f"$ref leaves the spec's folder: {path}",
                    file=used_at[0],
                    pointer=used_at[1],
                    hint="move the file next to the spec, or allow its directory with --allow-ref-dir",
                )
            if not resolved.is_file():
                raise SpecError(
                    f"$ref names a file that does not exist: {path}",
                    file=used_at[0],
                    pointer=used_at[1],
                    hint="fix the file name in the $ref",
                )
            self.files[resolved] = read_file(resolved)
        return self.files[resolved]

    def _target(self, ref: str, here: Path, used_at: str) -> tuple[Path, str, Any]:
        file_part, _, frag = ref.partition("#")
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", file_part):
            raise SpecError(
                f"remote $ref is not supported: {ref}",
                file=here,
                pointer=used_at,
                hint="download the document next to the spec and refer to it by a relative path",
            )
        target_file = (here.parent / file_part).resolve() if file_part else here
        doc = self._file(target_file, (here, used_at)) if file_part else self.files[here]
        try:
            value = resolve_pointer(doc, frag)
        except (KeyError, ValueError):
            raise SpecError(
                f"$ref points nowhere: {ref!r} (no {frag or '/'!s} in {target_file.name})",
                file=here,
                pointer=used_at,
                hint="fix the $ref or add the missing definition",
            ) from None
        return target_file, frag, value

    def _component_name(self, file: Path, frag: str) -> str:
        tokens = split_pointer(frag) if frag else []
        base = tokens[-1] if tokens else file.stem
        schemas = self.data.setdefault("components", {}).setdefault("schemas", {})
        name, n = base, 2
        while name in schemas:
            name = f"{base}{n}"
            n += 1
        return name

    def _walk(self, node: Any, file: Path, ptr: str, *, in_schema: bool) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                self._walk(item, file, f"{ptr}/{i}", in_schema=in_schema)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        is_root_file = file == self.root.resolve()
        if isinstance(ref, str) and (not ref.startswith("#") or not is_root_file):
            self._replace_ref(node, ref, file, ptr, in_schema=in_schema)
        for key, value in list(node.items()):
            if key == "$ref":
                continue
            child = f"{ptr}/{key.replace('~', '~0').replace('/', '~1')}"
            if in_schema:
                if key in SCHEMA_CHILD_KEYS or key in SCHEMA_LIST_KEYS:
                    self._walk(value, file, child, in_schema=True)
                elif key in SCHEMA_MAP_KEYS and isinstance(value, dict):
                    for name, sub in value.items():
                        self._walk(sub, file, f"{child}/{name}", in_schema=True)
                continue
            self._walk(value, file, child, in_schema=key == "schema" or ptr == "/components/schemas")

    def _replace_ref(self, node: dict[str, Any], ref: str, file: Path, ptr: str, *, in_schema: bool) -> None:
        target_file, frag, value = self._target(ref, file, ptr + "/$ref")
        key = (target_file, frag)
        if in_schema:
            if key not in self.hoisted:
                name = self._component_name(target_file, frag)
                self.hoisted[key] = name
                copied = copy.deepcopy(value)
                self.data["components"]["schemas"][name] = copied
                self._walk(copied, target_file, frag, in_schema=True)
            node["$ref"] = "#" + pointer("components", "schemas", self.hoisted[key])
            return
        if key in self.inlining:
            raise SpecError(
                f"reference cycle through {ref!r} cannot be represented outside schemas",
                file=file,
                pointer=ptr + "/$ref",
                hint="break the cycle; only schemas may refer to themselves",
            )
        self.inlining.add(key)
        copied = copy.deepcopy(value)
        self._walk(copied, target_file, frag, in_schema=False)
        self.inlining.discard(key)
        del node["$ref"]
        if isinstance(copied, dict):
            for k, v in copied.items():
                node.setdefault(k, v)


def _check_local_refs(data: Any, file: Path) -> list[SpecError]:
    errors: list[SpecError] = []

    def walk(node: Any, ptr: str) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                try:
                    resolve_pointer(data, ref[1:])
                except (KeyError, ValueError):
                    errors.append(
                        SpecError(
                            f"$ref points nowhere: {ref!r}",
                            file=file,
                            pointer=ptr + "/$ref",
                            hint=f"define {ref[1:]} or fix the $ref",
                        )
                    )
            for key, value in node.items():
                walk(value, f"{ptr}/{key.replace('~', '~0').replace('/', '~1')}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{ptr}/{i}")

    walk(data, "")
    return errors


def _check_version(data: dict[str, Any], path: Path) -> str:
    if "swagger" in data and "openapi" not in data:
        raise SpecError(
            f"Swagger {data.get('swagger')} is not supported; only OpenAPI 3.0 and 3.1 are",
            file=path,
            pointer="/swagger",
            hint="convert the document to OpenAPI 3 (for example with swagger2openapi)",
        )
    version = data.get("openapi")
    if version is None:
        raise SpecError(
            "missing required field 'openapi'",
            file=path,
            hint="start the document with `openapi: 3.1.0`",
        )
    if not isinstance(version, str) or not re.fullmatch(r"3\.[01]\.\d+(-.+)?", version):
        raise SpecError(
            f"unsupported OpenAPI version {version!r}; 3.0.x and 3.1.x are supported",
            file=path,
            pointer="/openapi",
            hint="set `openapi` to a 3.0.x or 3.1.x version (as a string)",
        )
    return version[:3]


def _deepest(err: Any) -> Any:
    """The most specific error under a oneOf/anyOf failure (the one deepest in the document)."""
    best = err
    for sub in getattr(err, "context", None) or []:
        candidate = _deepest(sub)
        if len(list(candidate.absolute_path)) > len(list(best.absolute_path)):
            best = candidate
    return best


def schema_locations(document: dict[str, Any]) -> list[tuple[str, Any]]:
    """(JSON pointer, schema) of every schema object a document holds at top level."""
    from .dialect import iter_schema_slots

    ids = {}
    for container, key in iter_schema_slots(document):
        ids[id(container[key])] = (container, key)
    located: list[tuple[str, Any]] = []

    def walk(node: Any, ptr: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                child = ptr + "/" + str(k).replace("~", "~0").replace("/", "~1")
                if id(v) in ids and ids[id(v)][0] is node:
                    located.append((child, v))
                    continue
                walk(v, child)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{ptr}/{i}")

    walk(document, "")
    return located


def _explain_30(data: dict[str, Any], ptr: str, message: str) -> tuple[str, str]:
    """For a 3.0 error on a Schema Object, the exact place inside it (the 3.0 validator reports
    only the enclosing object)."""
    import importlib.resources

    from jsonschema import validators

    try:
        node = resolve_pointer(data, ptr)
    except (KeyError, ValueError):
        return ptr, message
    if not (isinstance(node, dict) and ("/schemas/" in ptr or ptr.endswith("/schema"))):
        return ptr, message
    raw = importlib.resources.files("openapi_spec_validator").joinpath("resources/schemas/v3.0/schema.json").read_text()
    root = json.loads(raw)
    cls = validators.validator_for(root)
    validator = cls(root).evolve(schema={**root, "$ref": "#/definitions/Schema"}) if "definitions" in root else None
    if validator is None:
        return ptr, message
    errors = sorted(validator.iter_errors(node), key=lambda e: -len(list(_deepest(e).absolute_path)))
    if not errors:
        return ptr, message
    deep = _deepest(errors[0])
    return ptr + pointer(*[str(t) for t in deep.absolute_path]), str(deep.message)


def _validate_openapi(data: dict[str, Any], version: str, path: Path) -> list[SpecError]:
    """Structural errors (openapi-spec-validator's OpenAPI schema) and, for 3.1, each schema
    object against the JSON Schema 2020-12 meta-schema; every error located in the document."""
    from jsonschema import Draft202012Validator
    from jsonschema_path import SchemaPath
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    cls = OpenAPIV31SpecValidator if version == "3.1" else OpenAPIV30SpecValidator
    validator = cls(SchemaPath.from_dict(data))
    found: list[tuple[str, str]] = []
    for err in validator.schema_validator.iter_errors(data):
        deep = _deepest(err)
        ptr = pointer(*[str(t) for t in deep.absolute_path])
        if version == "3.0" and not getattr(deep, "context", None):
            ptr, message = _explain_30(data, ptr, str(deep.message))
            found.append((ptr, message))
            continue
        found.append((ptr, str(deep.message)))
    if version == "3.1" and not found:
        meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
        for ptr, schema in schema_locations(data):
            for err in meta.iter_errors(schema):
                deep = _deepest(err)
                found.append((ptr + pointer(*[str(t) for t in deep.absolute_path]), str(deep.message)))
    errors: list[SpecError] = []
    seen: set[str] = set()
    for ptr, message in found:
        if ptr in seen:
            continue
        seen.add(ptr)
        first = message.splitlines()[0]
        if len(first) > 300:
            first = first[:297] + "..."
        errors.append(
            SpecError(first, file=path, pointer=ptr, hint=f"see the OpenAPI {version} specification for this object")
        )
        if len(errors) >= 20:
            break
    return errors


def fingerprint(paths: list[Path]) -> str:
    """A digest over the given files' bytes (cache key for unchanged specs)."""
    digest = hashlib.sha256()
    for p in sorted(paths):
        digest.update(p.name.encode())
        digest.update(p.read_bytes())
    return digest.hexdigest()


def load(path: Path, *, allowed_dirs: tuple[Path, ...] = (), validate: bool = True) -> Document:
    """Read, bundle and check the spec at `path`; raise SpecError or SpecErrors."""
    path = Path(path)
    data = read_file(path)
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "empty"
        raise SpecError(
            f"the document must be a mapping (an object), not {kind}",
            file=path,
            hint="an OpenAPI document starts with `openapi:`, `info:` and `paths:`",
        )
    version = _check_version(data, path)
    bundler = _Bundler(path, data, allowed_dirs)
    try:
        bundler.bundle()
    except SpecError as exc:
        raise _located(exc) from None
    errors = _check_local_refs(data, path)
    if errors:
        raise SpecErrors([_located(e) for e in errors])
    if validate:
        errors = _validate_openapi(data, version, path)
        if errors:
            raise SpecErrors([_located(e) for e in errors])
    sources = tuple(sorted(bundler.files))
    return Document(
        path=path,
        data=data,
        version=version,
        fingerprint=fingerprint(list(sources)),
        sources=sources,
    )
