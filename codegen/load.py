"""Stage 1, load: spec text -> one checked OpenAPI document.

Reads YAML or JSON safely, pulls relative-file `$ref`s into the document (never leaving the
spec's folder unless a directory is allowed), checks every local `$ref`, the OpenAPI version and
the document against the OpenAPI schema. Every problem is a `SpecError` with file, JSON pointer,
line and column.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import compact_json, text_digest
from .errors import (
    Problem,
    SpecError,
    SpecErrors,
    SpecWarning,
    escape_token,
    pointer,
    ref_pointer,
    ref_to,
    split_pointer,
    unescape_token,
)
from .runtime.dialect import SCHEMA_CHILD_KEYS, SCHEMA_LIST_KEYS, SCHEMA_MAP_KEYS, Fix, apply_fixes
from .runtime.pointers import resolve_pointer, resolve_ref

if TYPE_CHECKING:
    import yaml

    from .cache import Memo


@functools.cache
def _spec_loader() -> Any:
    """SafeLoader (libyaml when available) keeping dates as strings and keys as strings, refusing
    any tag it does not know. Made on first use: a JSON spec never imports YAML."""
    import yaml

    class SpecLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        pass

    # JSON has no dates: a YAML timestamp stays the string it was written as.
    SpecLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    SpecLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    # Any tag SafeLoader does not know (python/object, !include...) is refused, never constructed.
    SpecLoader.add_constructor(None, _refuse_tag)
    return SpecLoader


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> dict[str, Any]:
    import yaml

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


def _refuse_tag(loader: Any, node: yaml.Node) -> None:
    import yaml

    raise yaml.constructor.ConstructorError(
        None, None, f"the tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed: a spec is plain data", node.start_mark
    )


# Deeper documents are refused: every later stage walks schemas recursively.
MAX_DEPTH = 100
# YAML aliases may repeat at most this many nodes in total (a "billion laughs" expands forever).
MAX_ALIAS_NODES = 100_000


def _check_yaml_shape(text: str, path: Path) -> None:
    """Refuse, before anything is built, YAML nested too deeply or whose aliases explode.

    Streams parser events (no recursion, no objects built): counts each anchored node's size,
    the nodes aliases add, and the nesting depth.
    """
    try:
        _walk_events(text, path)
    except _TooDeep as exc:
        # PyYAML 6.0.4 and later refuse deep nesting themselves, before the events reach us.
        raise _shape_error(f"the document is nested more than {MAX_DEPTH} levels deep", path, exc, _FLATTEN) from None


def _walk_events(text: str, path: Path) -> None:
    import yaml

    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[0, None]]  # [nodes so far, anchor] of each open collection
    repeated = 0
    for event in _events(text):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(stack) > MAX_DEPTH:
                raise _shape_error(f"the document is nested more than {MAX_DEPTH} levels deep", path, event, _FLATTEN)
            stack.append([1, event.anchor])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            count, anchor = stack.pop()
            if anchor is not None:
                sizes[anchor] = count
            stack[-1][0] += count
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            stack[-1][0] += 1
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for _, anchor in stack):
                raise _shape_error(f"alias *{event.anchor} refers to a node that contains it", path, event, _NO_ALIASES)
            repeated += sizes.get(event.anchor, 0)
            if repeated > MAX_ALIAS_NODES:
                raise _shape_error(f"YAML aliases repeat more than {MAX_ALIAS_NODES} nodes", path, event, _NO_ALIASES)
            stack[-1][0] += sizes.get(event.anchor, 0)


class _TooDeep(Exception):
    def __init__(self, mark: Any) -> None:
        super().__init__("too deep")
        self.start_mark = mark


def _events(text: str) -> Iterator[Any]:
    import yaml

    try:
        yield from yaml.parse(text, Loader=_spec_loader())
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem) and exc.problem_mark is not None:
            raise _TooDeep(exc.problem_mark) from None
        raise


_FLATTEN = "flatten the document: move nested schemas under components and use $ref"
_NO_ALIASES = "write the repeated part once under components and use $ref instead of YAML anchors"


def _shape_error(message: str, path: Path, event: Any, hint: str) -> SpecError:
    return SpecError(message, file=path, line=event.start_mark.line + 1, column=event.start_mark.column + 1, hint=hint)


def _check_json_depth(text: str, path: Path) -> None:
    """Refuse JSON nested more than MAX_DEPTH levels, with the place where it gets too deep."""
    depth = 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, token.start()) + 1
                column = token.start() - text.rfind("\n", 0, token.start())
                raise SpecError(
                    f"the document is nested more than {MAX_DEPTH} levels deep",
                    file=path,
                    line=line,
                    column=column,
                    hint=_FLATTEN,
                )
        elif bracket in "]}":
            depth -= 1


def _version_or_none(data: Any, path: Path) -> str | None:
    """`_check_version` of a document, None where it refuses it (it says why when asked again)."""
    try:
        return _check_version(data, path) if isinstance(data, dict) else None
    except SpecError:
        return None


def _refuse_deep(data: Any, path: Path) -> None:
    """`read_file`'s refusal of JSON nested too deep, for `data` read from `path` without it."""
    if path.suffix.lower() == ".json" and _deeper_than(data, MAX_DEPTH):
        _check_json_depth(path.read_bytes().decode("utf-8-sig"), path)  # says where


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether parsed JSON nests arrays and objects more than `limit` levels deep."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


@dataclass(frozen=True)
class Document:
    """A loaded, bundled and checked OpenAPI document."""

    path: Path
    data: dict[str, Any]
    version: str  # "3.0" or "3.1"
    fingerprint: str  # sha256 over every file that was read
    sources: tuple[Path, ...]
    origins: dict[str, tuple[Path, str]] = field(default_factory=dict)  # see _Bundler.origins
    # With --lenient: the rules of OpenAPI the document breaks and how it is read instead (the
    # fixes, applied to every reading of it but never to the document served).
    warnings: tuple[SpecWarning, ...] = ()
    fixes: tuple[Fix, ...] = ()
    # Digests of the path items and component schemas as loaded (see `_Vetting`): what later
    # stages key their memos by. Empty when loaded without a memo.
    digests: dict[str, str] = field(default_factory=dict)
    # The same values as compact JSON (`cache.compact_json`), where the document holds them as
    # they were read (not bundled): `_spec.py` writes them.
    texts: dict[str, str] = field(default_factory=dict)

    def located(self, error: Problem) -> Problem:
        """`error` (pointing into the bundled document) in the file and at the line it came from."""
        return _located(error, self.origins)


_JSON = json.JSONDecoder()  # json.loads's own decoder: the same values
_SPACE = re.compile(r"[ \t\n\r]*")


def _json_with_texts(text: str, texts: dict[str, str]) -> Any:
    """`json.loads(text)`, putting in `texts` the text of each path item and component schema
    as written (by place): the caches key each by its text, with no need to write it out again
    (`_Vetting`). The document's top level, `paths`, `components` and `components/schemas` are
    walked here, every value within them is parsed by json's own scanner; anything unusual (an
    error, a key given twice) is left to `json.loads` whole."""
    scan = _JSON.scan_once

    def space(i: int) -> int:
        return _SPACE.match(text, i).end()  # type: ignore[union-attr]

    def mapping(i: int, value: Any) -> tuple[dict[str, Any], int]:
        result: dict[str, Any] = {}
        i = space(i + 1)
        if text[i] == "}":
            return result, i + 1
        while True:
            if text[i] != '"':
                raise ValueError(i)
            key, i = json.decoder.scanstring(text, i + 1)
            i = space(i)
            if text[i] != ":" or key in result:
                raise ValueError(i)
            result[key], i = value(key, space(i + 1))
            i = space(i)
            if text[i] == "}":
                return result, i + 1
            if text[i] != ",":
                raise ValueError(i)
            i = space(i + 1)

    def kept(prefix: str) -> Callable[[str, int], tuple[Any, int]]:
        def value(key: str, i: int) -> tuple[Any, int]:
            found, end = scan(text, i)
            texts[f"{prefix}/{escape_token(key)}"] = text[i:end]
            return found, end

        return value

    def components(key: str, i: int) -> tuple[Any, int]:
        return mapping(i, kept("/components/schemas")) if key == "schemas" and text[i] == "{" else scan(text, i)

    def top(key: str, i: int) -> tuple[Any, int]:
        if key == "paths" and text[i] == "{":
            return mapping(i, kept("/paths"))
        if key == "components" and text[i] == "{":
            return mapping(i, components)
        return scan(text, i)

    try:
        start = space(0)
        if text[start : start + 1] != "{":
            raise ValueError(start)
        data, end = mapping(start, top)
        if space(end) != len(text):
            raise ValueError(end)
    except (ValueError, IndexError, StopIteration):
        texts.clear()
        return json.loads(text)
    return data


def read_file(path: Path, *, check_depth: bool = True, texts: dict[str, str] | None = None) -> Any:
    """Parse one YAML or JSON file; a syntax error becomes a located SpecError. Without
    `check_depth`, parsed JSON nested too deep is the caller's to refuse (`_refuse_deep`).
    `texts`, if given, receives the text of each path item and component schema of a JSON
    document as written there, by JSON pointer (see `_json_with_texts`)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"file not found: {path}", file=path, hint="check the --spec path") from None
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc.strerror}", file=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        raise SpecError(
            f"the file is not UTF-8 (byte {raw[exc.start]:#x})",
            file=path,
            line=raw.count(b"\n", 0, exc.start) + 1,
            column=len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1,
            hint="save the spec as UTF-8",
        ) from None
    if path.suffix.lower() == ".json":
        try:
            found: dict[str, str] = {}
            data = _json_with_texts(text, found) if texts is not None else json.loads(text)
            if texts is not None:
                texts.update(found)
        except RecursionError:
            data = None
        except json.JSONDecodeError as exc:
            _check_json_depth(text, path)  # a document too deep is told so first
            raise SpecError(
                f"invalid JSON: {exc.msg}",
                file=path,
                line=exc.lineno,
                column=exc.colno,
                hint="fix the JSON syntax at that position",
            ) from None
        if data is None or (check_depth and _deeper_than(data, MAX_DEPTH)):
            _check_json_depth(text, path)  # says where
        return data
    import yaml

    try:
        _check_yaml_shape(text, path)
        return yaml.load(text, Loader=_spec_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "syntax error"
        refused = "is not allowed" in problem
        raise SpecError(
            problem if refused else f"invalid YAML: {problem}",
            file=path,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint="remove the tag: only mappings, lists, strings, numbers, booleans and null are read"
            if refused
            else "fix the YAML syntax at that position",
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", file=path) from None


def locate(path: Path, ptr: str) -> tuple[int, int] | None:
    """Line and column (1-based) of the node at `ptr` in a YAML or JSON file, if found."""
    import yaml

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


def _located(error: Problem, origins: dict[str, tuple[Path, str]] | None = None) -> Problem:
    """`error` with line and column, moved to the file its pointer's content came from."""
    if origins and error.pointer:
        prefix = max((k for k in origins if error.pointer == k or error.pointer.startswith(k + "/")), key=len, default=None)
        if prefix is not None:
            error.file, frag = origins[prefix]
            error.pointer = frag + error.pointer[len(prefix) :]
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
        self.root_file = root.resolve()
        self.files: dict[Path, Any] = {self.root_file: data}
        self.hoisted: dict[tuple[Path, str], str] = {}
        self.inlining: set[tuple[Path, str]] = set()
        # Where content pulled in from another file came from: bundle pointer -> (file, pointer).
        self.origins: dict[str, tuple[Path, str]] = {}

    def bundle(self, scan: Any = None) -> bool:
        """Pull the other files in, if a `$ref` in `scan` (the document, or the part of it that
        may hold one) names one; whether it did."""
        if not _external_refs(self.data if scan is None else scan):
            return False  # a document of one file
        self._walk(self.data, self.root_file, "", "", in_schema=False)
        return True

    def _file(self, resolved: Path, written: str, used_at: tuple[Path, str]) -> Any:
        if resolved not in self.files:
            if not any(resolved.is_relative_to(r) for r in self.roots):
                raise SpecError(
                    f"$ref leaves the spec's folder: {written} is {resolved}",
                    file=used_at[0],
                    pointer=used_at[1],
                    hint="move the file next to the spec, or allow its directory with --allow-ref-dir",
                )
            if not resolved.is_file():
                raise SpecError(
                    f"$ref names a file that does not exist: {written}",
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
        doc = self._file(target_file, file_part, (here, used_at)) if file_part else self.files[here]
        frag = ref_pointer("#" + frag)
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

    def _walk(self, node: Any, file: Path, ptr: str, at: str, *, in_schema: bool) -> None:
        """Bundle the refs under `node`, found at `ptr` in `file` and at `at` in the bundle."""
        if isinstance(node, list):
            for i, item in enumerate(node):
                self._walk(item, file, f"{ptr}/{i}", f"{at}/{i}", in_schema=in_schema)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        is_root_file = file == self.root_file
        if isinstance(ref, str) and (not ref.startswith("#") or not is_root_file):
            self._replace_ref(node, ref, file, ptr, at, in_schema=in_schema)
        for key, value in list(node.items()):
            if key == "$ref":
                continue
            token = "/" + escape_token(key)
            if in_schema:
                if key in SCHEMA_CHILD_KEYS or key in SCHEMA_LIST_KEYS:
                    self._walk(value, file, ptr + token, at + token, in_schema=True)
                elif key in SCHEMA_MAP_KEYS and isinstance(value, dict):
                    for name, sub in value.items():
                        sub_token = token + "/" + escape_token(name)
                        self._walk(sub, file, ptr + sub_token, at + sub_token, in_schema=True)
                continue
            self._walk(value, file, ptr + token, at + token, in_schema=key == "schema" or at == "/components/schemas")

    def _replace_ref(self, node: dict[str, Any], ref: str, file: Path, ptr: str, at: str, *, in_schema: bool) -> None:
        target_file, frag, value = self._target(ref, file, ptr + "/$ref")
        key = (target_file, frag)
        if in_schema:
            if key not in self.hoisted:
                name = self._component_name(target_file, frag)
                self.hoisted[key] = name
                copied = copy.deepcopy(value)
                self.data["components"]["schemas"][name] = copied
                component = pointer("components", "schemas", name)
                self.origins[component] = (target_file, frag)
                self._walk(copied, target_file, frag, component, in_schema=True)
            node["$ref"] = ref_to(pointer("components", "schemas", self.hoisted[key]))
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
        self.origins[at] = (target_file, frag)
        self._walk(copied, target_file, frag, at, in_schema=False)
        self.inlining.discard(key)
        del node["$ref"]
        if isinstance(copied, dict):
            for k, v in copied.items():
                node.setdefault(k, v)


def _external_refs(data: Any) -> bool:
    """Whether a `$ref` in `data` names another file (does not start with `#`)."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                return True
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        else:
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return False


def _check_local_refs(data: Any, file: Path, version: str = "3.1", document: Any = None) -> list[SpecError]:
    """The local `$ref`s under `data` that point nowhere, by anchor or (3.0) into what a `$ref`'s
    siblings hold; resolved in `document` (default: `data` itself)."""
    errors: list[SpecError] = []
    data_ = data
    data = data if document is None else document

    path: list[str | int] = []  # where the walk is; a pointer is written only for an error

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ptr = ""
            if "$ref" in node or "$dynamicRef" in node:
                ptr = pointer(*path)
            ref = node.get("$ref")
            for key in ("$ref", "$dynamicRef"):
                anchor = node.get(key)
                if isinstance(anchor, str) and anchor.startswith("#") and anchor[1:] and not anchor.startswith("#/"):
                    errors.append(
                        SpecError(
                            f"{key} by anchor ({anchor!r}) is not supported",
                            file=file,
                            pointer=f"{ptr}/{key}",
                            hint="refer to the schema by its JSON pointer (#/components/schemas/...)",
                        )
                    )
                    ref = None
            if isinstance(ref, str) and ref.startswith("#"):
                problem = None
                try:
                    resolve_ref(data, ref)
                except (KeyError, ValueError):
                    problem = (f"$ref points nowhere: {ref!r}", f"define {ref[1:]} or fix the $ref")
                else:
                    ignored = _into_ref_siblings(data, ref) if version == "3.0" else None
                    if ignored is not None:
                        problem = (
                            f"$ref points into {ignored!r}, a sibling of a $ref, which OpenAPI 3.0 ignores: {ref!r}",
                            f"move what {ref[1:]} holds to components/schemas and refer to it there",
                        )
                if problem is not None:
                    errors.append(SpecError(problem[0], file=file, pointer=ptr + "/$ref", hint=problem[1]))
            for key, value in node.items():
                if isinstance(value, (dict, list)):
                    path.append(key)
                    walk(value)
                    path.pop()
        elif isinstance(node, list):
            for i, item in enumerate(node):
                if isinstance(item, (dict, list)):
                    path.append(i)
                    walk(item)
                    path.pop()

    walk(data_)
    return errors


def _into_ref_siblings(data: Any, ref: str) -> str | None:
    """The pointer of the `$ref` sibling a local `$ref` leads into, if it does (3.0: a
    Reference Object's other keys are ignored, so what they hold is not in the document)."""
    node, walked = data, ""
    for token in split_pointer(ref_pointer(ref)):
        if isinstance(node, dict) and "$ref" in node and token != "$ref":
            return f"{walked}/{escape_token(token)}"
        node = node[int(token)] if isinstance(node, list) else node[token]
        walked += f"/{escape_token(token)}"
    return None


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
    from .runtime.dialect import iter_schema_slots

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


def _explain_30(data: dict[str, Any], ptr: str, error: Any) -> tuple[str, Any]:
    """For a 3.0 error on a Schema Object, the exact place inside it and the error there (the
    3.0 validator reports only the enclosing object)."""
    import importlib.resources

    from jsonschema import validators

    try:
        node = resolve_pointer(data, ptr)
    except (KeyError, ValueError):
        return ptr, error
    if not (isinstance(node, dict) and ("/schemas/" in ptr or ptr.endswith("/schema"))):
        return ptr, error
    raw = importlib.resources.files("openapi_spec_validator").joinpath("resources/schemas/v3.0/schema.json").read_text()
    root = json.loads(raw)
    cls = validators.validator_for(root)
    validator = cls(root).evolve(schema={**root, "$ref": "#/definitions/Schema"}) if "definitions" in root else None
    if validator is None:
        return ptr, error
    errors = sorted(validator.iter_errors(node), key=lambda e: -len(list(_deepest(e).absolute_path)))
    if not errors:
        return ptr, error
    deep = _deepest(errors[0])
    return ptr + pointer(*[str(t) for t in deep.absolute_path]), deep


def _openapi_schema(version: str) -> dict[str, Any]:
    """openapi-spec-validator's OpenAPI schema for `version`, read without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec("openapi_spec_validator")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations)))
    return json.loads((folder / "resources" / "schemas" / f"v{version}" / "schema.json").read_text(encoding="utf-8"))


_FAST: dict[str, Any] = {}


def _valid_fast(data: dict[str, Any], version: str) -> bool:
    """True when jsonschema-rs finds nothing wrong: the document against the OpenAPI schema
    and, for 3.1, every schema object against the 2020-12 meta-schema.

    Only a gate: when it says False, python jsonschema explains the errors precisely.
    """
    import jsonschema_rs

    if version not in _FAST:
        _FAST[version] = jsonschema_rs.validator_for(_openapi_schema(version), validate_formats=False)
    if not _FAST[version].is_valid(data):
        return False
    if version == "3.1":
        if "meta" not in _FAST:
            _FAST["meta"] = jsonschema_rs.Draft202012Validator(
                {"$ref": "https://json-schema.org/draft/2020-12/schema"}, validate_formats=False
            )
        meta = _FAST["meta"]
        return all(meta.is_valid(schema) for _, schema in schema_locations(data))
    return True


@dataclass(frozen=True)
class _Finding:
    """One structural error: where, and jsonschema's error there (`validator`, `instance`...)."""

    pointer: str
    error: Any

    @property
    def message(self) -> str:
        first = str(self.error.message).splitlines()[0]
        return first if len(first) <= 300 else first[:297] + "..."


def _findings(data: dict[str, Any], version: str) -> list[_Finding]:
    """The structural errors (openapi-spec-validator's OpenAPI schema) and, for 3.1, each schema
    object's errors against the JSON Schema 2020-12 meta-schema, one per place. jsonschema-rs
    says quickly whether there are any; python jsonschema finds and explains them."""
    if _valid_fast(data, version):
        return []
    from jsonschema import Draft202012Validator
    from jsonschema_path import SchemaPath
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    cls = OpenAPIV31SpecValidator if version == "3.1" else OpenAPIV30SpecValidator
    validator = cls(SchemaPath.from_dict(data))
    found: list[_Finding] = []
    for err in validator.schema_validator.iter_errors(data):
        deep = _deepest(err)
        ptr = pointer(*[str(t) for t in deep.absolute_path])
        if version == "3.0" and not getattr(deep, "context", None):
            ptr, deep = _explain_30(data, ptr, deep)
        found.append(_Finding(ptr, deep))
    if version == "3.1" and not found:
        meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
        for ptr, schema in schema_locations(data):
            for err in meta.iter_errors(schema):
                deep = _deepest(err)
                found.append(_Finding(ptr + pointer(*[str(t) for t in deep.absolute_path]), deep))
    unique: dict[str, _Finding] = {}
    for finding in found:
        unique.setdefault(finding.pointer, finding)
    return list(unique.values())


def _explained_findings(data: dict[str, Any], version: str) -> list[_Finding]:
    """The structural errors as `_findings`, each explained down to what is wrong (`_leaves`):
    `'description' is a required property` rather than "not valid under any of the given
    schemas" (python jsonschema over openapi-spec-validator's OpenAPI schema)."""
    if _valid_fast(data, version):
        return []
    from jsonschema import Draft202012Validator, validators

    root = _openapi_schema(version)
    validator = validators.validator_for(root)(root)
    found = [_Finding(pointer(*[str(t) for t in leaf.absolute_path]), leaf) for err in validator.iter_errors(data) for leaf in _leaves(err)]
    if version == "3.1" and not found:
        meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
        for ptr, schema in schema_locations(data):
            for err in meta.iter_errors(schema):
                found += [_Finding(ptr + pointer(*[str(t) for t in leaf.absolute_path]), leaf) for leaf in _leaves(err)]
    unique: dict[tuple[str, str], _Finding] = {}
    for finding in found:
        unique.setdefault((finding.pointer, finding.message), finding)
    return list(unique.values())


def _leaves(err: Any) -> list[Any]:
    """What is wrong, under a oneOf/anyOf error: the errors of the alternative the instance
    was meant to be. Alternatives it plainly is not are set aside: a Reference (no `$ref`),
    another type, or another value of a property that tells alternatives apart (a parameter's
    `in`)."""
    if err.validator not in ("oneOf", "anyOf") or not err.context:
        return [err]
    branches: dict[Any, list[Any]] = {}
    for sub in err.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    is_ref = isinstance(err.instance, dict) and "$ref" in err.instance

    def plausible(errors: list[Any]) -> bool:
        for e in errors:
            if e.validator == "required" and str(e.message) == "'$ref' is a required property" and not is_ref:
                return False
            if e.validator == "type" and not e.relative_path:
                return False
            if e.validator in ("enum", "const") and len(e.relative_path) == 1:
                return False
        return True

    kept = [errors for errors in branches.values() if plausible(errors)] or list(branches.values())
    return [leaf for e in kept[0] for leaf in _leaves(e)]


def _validate_openapi(data: dict[str, Any], version: str, path: Path) -> list[SpecError]:
    """The structural errors (`_findings`) located in the document, at most 20; then patterns
    that are not regular expressions."""
    errors = [
        SpecError(f.message, file=path, pointer=f.pointer, hint=f"see the OpenAPI {version} specification for this object")
        for f in _findings(data, version)[:20]
    ]
    return errors or _invalid_patterns(data, path)


def _subschemas(schema: Any, ptr: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in `schema` (itself included), with its pointer."""
    stack = [(ptr, schema)]
    while stack:
        ptr, node = stack.pop()
        if not isinstance(node, dict):
            continue
        yield ptr, node
        for key, value in node.items():
            child = ptr + "/" + escape_token(key)
            if key in SCHEMA_CHILD_KEYS:
                stack.append((child, value))
            elif key in SCHEMA_LIST_KEYS and isinstance(value, list):
                stack.extend((f"{child}/{i}", v) for i, v in enumerate(value))
            elif key in SCHEMA_MAP_KEYS and isinstance(value, dict):
                stack.extend((child + "/" + escape_token(k), v) for k, v in value.items())


def _invalid_patterns(data: dict[str, Any], path: Path) -> list[SpecError]:
    """`pattern`s and `patternProperties` keys that are not ECMA-262 regular expressions (in `u`
    mode or without flags, see `codegen.runtime.patterns`), which would otherwise be silently unchecked."""
    from .runtime.patterns import PatternError, pattern

    found = []
    for top, schema in schema_locations(data):
        for ptr, node in _subschemas(schema, top):
            patterns = [(ptr + "/pattern", node.get("pattern"))]
            if isinstance(node.get("patternProperties"), dict):
                patterns += [(ptr + pointer("patternProperties", k), k) for k in node["patternProperties"]]
            for where, source in patterns:
                if not isinstance(source, str):
                    continue
                try:
                    pattern(source)
                except PatternError as exc:
                    found.append(
                        SpecError(
                            str(exc),
                            file=path,
                            pointer=where,
                            hint="fix the pattern: JSON Schema patterns are ECMA-262 regular expressions "
                            "(tried with the u flag, then without), not Python's re",
                        )
                    )
    return sorted(found, key=lambda e: e.pointer)


class _Vetting:
    """Which path items and component schemas of a document an earlier run found sound, and
    what they refer to.

    The OpenAPI schema judges a path item by itself, whatever the rest of the document holds
    (and a schema, by itself and the meta-schema): one that validated, with every local `$ref`
    in it resolving, no `$ref` by anchor and none to another file, is sound wherever that
    same value stands at that same place in a document of that version. The memo keeps, for
    each (version, place, digest of the value), the local `$ref`s in it: a run checks the
    rest of the document with each sound value replaced by `{}` (which is valid there), and
    that those `$ref`s still resolve. Values that are not JSON (YAML's `!!binary`, `!!set`)
    are never vetted.
    """

    def __init__(self, data: dict[str, Any], version: str, memo: Memo, written: dict[str, str] | None = None) -> None:
        self.data = data
        self.version = version
        self.memo = memo
        # Each value's memo key is by the digest of its text as written where `written` has it
        # (a JSON document's, see `_json_with_texts`: the same text parses to the same value),
        # else of its compact JSON; the memo keeps its compact JSON beside the former.
        self.written = written or {}
        self.places: list[tuple[str, str | None, dict[str, Any], str]] = []  # (place, memo key, mapping, name)
        self.vetted: dict[str, list[str]] = {}  # place -> its local $refs
        self.texts: dict[str, str] = {}  # place -> its value as compact JSON (`cache.compact_json`)
        for prefix, items in ((("paths",), member(data, "paths")), (("components", "schemas"), member(member(data, "components"), "schemas"))):
            for name, value in items.items():
                if not isinstance(value, dict):
                    continue
                place = pointer(*prefix, name)
                as_written = self.written.get(place)
                text = _compact(value) if as_written is None else None
                digest = text_digest(as_written if as_written is not None else text) if as_written is not None or text is not None else None
                key = f"{version}\0{place}\0{digest}" if digest is not None else None
                self.places.append((place, key, items, name))
                entry = memo.get(key) if key is not None else None
                if (
                    isinstance(entry, list)
                    and len(entry) == 2
                    and isinstance(entry[0], list)
                    and all(isinstance(r, str) for r in entry[0])
                    and (isinstance(entry[1], str) or as_written is None)
                ):
                    self.vetted[place] = entry[0]
                    text = entry[1] if as_written is not None else text
                elif as_written is not None:
                    text = _compact(value)
                if text is not None:
                    self.texts[place] = text

    def skeleton(self) -> dict[str, Any]:
        """The document with each vetted value replaced by `{}`."""
        if not self.vetted:
            return self.data
        skeleton = dict(self.data)
        if self.data.get("paths"):
            skeleton["paths"] = {
                name: {} if pointer("paths", name) in self.vetted else value for name, value in self.data["paths"].items()
            }
        schemas = member(member(self.data, "components"), "schemas")
        if schemas:
            stand_in = {name: {} if pointer("components", "schemas", name) in self.vetted else value for name, value in schemas.items()}
            skeleton["components"] = {**self.data["components"], "schemas": stand_in}
        return skeleton

    def refs_hold(self) -> bool:
        """Whether every local `$ref` of the vetted values resolves, and (3.0) not into what
        a `$ref`'s siblings hold."""
        for ref in {ref for refs in self.vetted.values() for ref in refs}:
            try:
                resolve_ref(self.data, ref)
            except (KeyError, ValueError):
                return False
            if self.version == "3.0" and _into_ref_siblings(self.data, ref) is not None:
                return False
        return True

    def remember(self, bundled: bool) -> None:
        """Record every value of the (sound) document for the next run: those bundling left as
        they were written (a value it changed named another file: it is bundled every run)."""
        for place, key, items, name in self.places:
            if key is None or place in self.vetted:
                continue
            value = items.get(name)
            written = self.texts.get(place)
            if isinstance(value, dict) and written is not None and not (bundled and text_digest(written) != _digest(value)):
                self.memo.put(key, [local_refs(value), written if place in self.written else None])


    def digests(self, bundled: bool) -> dict[str, str]:
        """The digest of each path item and component schema as the document holds them now."""
        found = {}
        for place, key, items, name in self.places:
            value = items.get(name)
            digest = _digest(value) if bundled else key.rsplit("\0", 1)[1] if key is not None else None
            if isinstance(value, dict) and digest is not None:
                found[place] = digest
        return found


def vetting_shard(key: str) -> str:
    """The place a `_Vetting` memo key is for: a memo shard."""
    return key.split("\0", 2)[1]


def member(node: Any, key: str) -> dict[str, Any]:
    """`node[key]` when both are objects, else an empty one."""
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, dict) else {}


def _digest(value: Any) -> str | None:
    """`cache.json_digest` of a value; None for one JSON cannot hold (YAML's `!!binary`)."""
    text = _compact(value)
    return text_digest(text) if text is not None else None


def _compact(value: Any) -> str | None:
    """`cache.compact_json` of a value; None for one JSON cannot hold."""
    try:
        return compact_json(value)
    except (TypeError, ValueError, RecursionError):
        return None


def local_refs(node: Any) -> list[str]:
    """The distinct local `$ref`s under `node`, in order of first appearance."""
    found: dict[str, None] = {}
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                found[ref] = None
            stack.extend(v for v in reversed(item.values()) if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend(v for v in reversed(item) if isinstance(v, (dict, list)))
    return list(found)


def fingerprint(paths: list[Path]) -> str:
    """A digest over the given files' bytes (cache key for unchanged specs)."""
    digest = hashlib.sha256()
    for p in sorted(paths):
        digest.update(p.name.encode())
        digest.update(p.read_bytes())
    return digest.hexdigest()


def load(
    path: Path, *, allowed_dirs: tuple[Path, ...] = (), validate: bool = True, lenient: bool = False, memo: Memo | None = None
) -> Document:
    """Read, bundle and check the spec at `path`; raise SpecError or SpecErrors. With
    `lenient`, the structural errors `_workaround` knows become warnings and fixes. With a
    `memo` (kind "load"), path items and schemas an earlier run found sound are not checked
    again; the verdict is the same."""
    path = Path(path)
    # Nesting is checked once the memo is read: a path item or schema vetted before (`_Vetting`)
    # was within the limit then, at the same place.
    written: dict[str, str] = {}
    data = read_file(path, check_depth=memo is None, texts=written if memo is not None else None)
    version = _version_or_none(data, path) if memo is not None else None
    vetting = _Vetting(data, version, memo, written) if version is not None and memo is not None and validate and not lenient else None
    if memo is not None:
        _refuse_deep(vetting.skeleton() if vetting else data, path)  # before any other complaint, as without a memo
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
        bundled = bundler.bundle(vetting.skeleton() if vetting else None)
    except SpecError as exc:
        raise _located(exc) from None
    # What an earlier run found sound is not checked again (`_Vetting`): the rest of the
    # document is, and where it holds an error, the whole document is, as without a memo. (The
    # skeleton is taken again after bundling: it may have added schemas.)
    checked = vetting.skeleton() if vetting else data
    errors = _check_local_refs(checked, path, version, data)
    if vetting and (errors or not vetting.refs_hold()):
        checked = data
        errors = _check_local_refs(data, path, version)
    warnings: list[SpecWarning] = []
    fixes: list[Fix] = []
    if not errors and validate:
        if lenient:
            errors, warnings, fixes = _validate_leniently(data, version, path)
        else:
            errors = _validate_openapi(checked, version, path)
            if errors and checked is not data:
                errors = _validate_openapi(data, version, path)
    if errors:
        raise SpecErrors([_located(e, bundler.origins) for e in errors])
    digests: dict[str, str] = {}
    texts: dict[str, str] = {}
    if vetting is not None:
        vetting.remember(bundled)
        digests = vetting.digests(bundled)
        texts = {} if bundled else vetting.texts
    sources = tuple(sorted(bundler.files))
    return Document(
        path=path,
        data=data,
        version=version,
        fingerprint=fingerprint(list(sources)),
        sources=sources,
        origins=bundler.origins,
        warnings=tuple(_located(w, bundler.origins) for w in warnings),
        fixes=tuple(fixes),
        digests=digests,
        texts=texts,
    )


MAX_ROUNDS = 8  # a fix may uncover another error (inside a oneOf): validate again, this often


def _validate_leniently(data: dict[str, Any], version: str, path: Path) -> tuple[list[SpecError], list[SpecWarning], list[Fix]]:
    """Errors `_workaround` does not know, or else the warnings and fixes of those it does,
    validating the document again with the fixes applied until it is valid."""
    warnings: list[SpecWarning] = []
    fixes: list[Fix] = []
    fixed = data
    for _ in range(MAX_ROUNDS):
        findings = _explained_findings(fixed, version)
        if not findings:
            break
        schemas = tuple(ptr + "/" for ptr, _ in schema_locations(fixed))
        worked = [(f, _workaround(f, fixed, version, schemas)) for f in findings]
        refused = [f for f, way in worked if way is None]
        if refused:
            hint = f"see the OpenAPI {version} specification for this object (--lenient cannot work around it)"
            return [SpecError(f.message, file=path, pointer=f.pointer, hint=hint) for f in refused[:20]], [], []
        for finding, way in worked:
            assert way is not None
            message, more = way
            warnings.append(SpecWarning(message, file=path, pointer=finding.pointer))
            fixes.extend(more)
        fixed = copy.deepcopy(data)
        apply_fixes(fixed, fixes)
    else:
        return _validate_openapi(fixed, version, path), [], []
    for error in _invalid_patterns(fixed, path):
        warnings.append(SpecWarning(f"{error.message}; the pattern is not checked", file=path, pointer=error.pointer))
        fixes.append(("remove", error.pointer))
    return [], warnings, fixes


def _workaround(finding: _Finding, document: dict[str, Any], version: str, schemas: tuple[str, ...] = ()) -> tuple[str, list[Fix]] | None:
    """How --lenient reads a part of the document that breaks the OpenAPI schema: the warning
    (what is wrong; what is done instead) and the fixes that do it; None when generation
    cannot work around it."""
    err, ptr = finding.error, finding.pointer

    def said(instead: str) -> str:
        return f"{finding.message}; {instead}"

    parent_ptr, _, key = ptr.rpartition("/")
    if err.validator == "required":
        missing = re.fullmatch(r"'(.+)' is a required property", str(err.message))
        name = missing.group(1) if missing else ""
        if name == "description" and re.search(r"/responses/[^/]+$", ptr):
            return said("read with an empty description"), [("set", ptr + "/description", "")]
        if name in ("schema", "content") and _is_parameter(ptr, err.instance):
            return said("read as a string"), [("set", ptr + "/schema", {"type": "string"})]
        if name == "required" and _is_parameter(ptr, err.instance) and err.instance.get("in") == "path":
            return said("read as required (path parameters always are)"), [("set", ptr + "/required", True)]
    if err.validator == "const" and key == "required" and err.validator_value is True and _is_parameter(parent_ptr, None):
        return said("read as required (path parameters always are)"), [("set", ptr, True)]
    if err.validator == "additionalProperties" and isinstance(err.instance, dict) and ptr != "/paths":
        extra = _additional(err.instance, err.schema)
        if extra:
            names = ", ".join(repr(k) for k in extra)
            what = "is not a field of this object; it is" if len(extra) == 1 else "are not fields of this object; they are"
            return f"{names} {what} ignored", [("remove", ptr + pointer(k)) for k in extra]
    if version == "3.1" and key in ("exclusiveMaximum", "exclusiveMinimum") and isinstance(err.instance, bool):
        bound = key.removeprefix("exclusive").lower()
        try:
            schema = resolve_pointer(document, parent_ptr)
        except (KeyError, ValueError):
            return None
        if not isinstance(schema, dict) or bound not in schema:
            return said(f"read with OpenAPI 3.0's meaning: without a {bound}, nothing is excluded"), [("remove", ptr)]
        if not err.instance:
            return said(f"read with OpenAPI 3.0's meaning: the {bound} {schema[bound]!r} is inclusive"), [("remove", ptr)]
        return (
            said(f"read with OpenAPI 3.0's meaning: the {bound} {schema[bound]!r} is exclusive"),
            [("set", ptr, schema[bound]), ("remove", f"{parent_ptr}/{bound}")],
        )
    if key not in ("", "$ref") and (parent_ptr + "/").startswith(schemas) and err.validator in _KEYWORD_CHECKS:
        # A schema keyword whose value is not what JSON Schema says (`pattern: 0`): dropping it
        # only ever lets more values through.
        return said(f"the keyword {unescape_token(key)!r} is ignored"), [("remove", ptr)]
    return None


# What the meta-schemas check of a schema keyword's own value.
_KEYWORD_CHECKS = ("type", "enum", "const", "minimum", "exclusiveMinimum", "minItems", "uniqueItems", "format", "anyOf", "oneOf")


def _is_parameter(ptr: str, node: Any) -> bool:
    """Whether `ptr` names a parameter object (of an operation, a path item or the components)."""
    return bool(re.search(r"/parameters/[^/]+$", ptr)) and (node is None or "in" in node)


def _additional(instance: dict[str, Any], schema: Any) -> list[str]:
    """The keys of `instance` its schema's `additionalProperties: false` refuses."""
    if not isinstance(schema, dict):
        return []
    declared = set(schema.get("properties") or {})
    patterns = list(schema.get("patternProperties") or {})
    return [k for k in instance if k not in declared and not any(re.search(p, k) for p in patterns)]
