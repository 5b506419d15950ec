"""Stage 2, IR: a checked OpenAPI document -> typed, plain data the templates render.

Names are decided here, once and deterministically: method names, argument names, router
modules, Protocol classes and the names of the models synthesized for inline schemas.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import marshal
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .cache import compact_json, json_digest, text_digest
from .errors import SpecError, SpecErrors, SpecWarning, pointer, ref_pointer, schema_name
from .load import Document, member, resolve_pointer
from .names import NameSet, ascii_letters, package_name, pascal, snake
from .runtime.dialect import Fix, normalize_document, normalize_fragment

if TYPE_CHECKING:
    from .cache import Memo

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
TEMPLATE_VAR = re.compile(r"\{([^{}]*)\}")
DEFAULT_STYLE = {"path": "simple", "header": "simple", "query": "form", "cookie": "form"}
JSON_MEDIA = re.compile(r"^application/(.+\+)?json(;.*)?$|^\*/\*$")
# Module-level names of a router module that a route function must not rebind.
ROUTER_GLOBALS = {"annotations", "checks", "models", "router", "runtime"}


@dataclass(frozen=True)
class Parameter:
    """One request parameter, with the argument name the implementation receives it by."""

    name: str
    location: str  # path, query, header, cookie
    key: str
    required: bool
    schema: Any  # JSON Schema (2020-12), possibly a $ref into the models
    style: str
    explode: bool
    allow_reserved: bool
    allow_empty_value: bool
    content_type: str | None
    description: str
    deprecated: bool
    has_default: bool
    default: Any
    pointer: str  # where the parameter is declared (after following $refs)
    schema_pointer: str  # where its schema is; "" for a parameter the spec does not declare (--lenient)


@dataclass(frozen=True)
class KeyParameter:
    """A parameter a path key names after its path: `/search?term={term}`, `/#Action=Describe`,
    `/tags/{arn}#tagKeys`."""

    name: str
    value: str | None = None  # `name=value`: the value it has
    variable: str | None = None  # `name={variable}`: the template variable its value is
    sent: bool = True  # after `?`, in the URL clients send; after `#`, a label they never send


@dataclass(frozen=True)
class Discriminator:
    """A parameter that tells apart operations sharing a path and a method: one their path keys
    name (`#Action=Describe` is the query parameter Action with the value Describe)."""

    location: str  # query or header
    name: str
    value: str | None  # the value it must have; None: any, as long as it is sent
    # True: the operation is chosen only when the request carries it (a declared parameter, or
    # one named after `?`); False: named after `#` and declared by no parameter, a label that
    # makes the operation preferred when the request carries it.
    required: bool


@dataclass(frozen=True)
class MediaType:
    """One media type of a request or response body."""

    content_type: str
    schema: Any  # None when the media type declares no schema
    encoding: dict[str, Any]
    example: Any
    has_example: bool
    pointer: str  # of the media type object
    example_pointer: str | None

    @property
    def schema_pointer(self) -> str:
        return self.pointer + "/schema"

    @property
    def is_json(self) -> bool:
        return bool(JSON_MEDIA.match(self.content_type))

    @property
    def is_sse(self) -> bool:
        return self.content_type.split(";")[0].strip() == "text/event-stream"


@dataclass(frozen=True)
class RequestBody:
    """The request body: the implementation receives it as `key`."""

    key: str
    required: bool
    media_types: tuple[MediaType, ...]
    description: str
    schema: Any  # the schema the argument is typed by
    pointer: str  # of the request body object (after following $refs)


@dataclass(frozen=True)
class Header:
    """A response header declared by the spec."""

    name: str
    required: bool
    schema: Any
    description: str
    schema_pointer: str


@dataclass(frozen=True)
class Response:
    """A declared response: status is "200", "2XX" or "default"."""

    status: str
    description: str
    media_types: tuple[MediaType, ...]
    headers: tuple[Header, ...]
    model: str | None  # name of the model synthesized for an inline JSON schema

    @property
    def is_success(self) -> bool:
        return self.status.startswith("2")

    @property
    def json_media(self) -> MediaType | None:
        return next((m for m in self.media_types if m.is_json), None)

    @property
    def is_sse(self) -> bool:
        return any(m.is_sse for m in self.media_types)


@dataclass(frozen=True)
class SecurityScheme:
    """A security scheme of `components.securitySchemes`: one FastAPI security dependency."""

    name: str  # as the spec names it
    key: str  # its attribute in the generated `security` module
    kind: str  # apiKey, http, oauth2, openIdConnect, mutualTLS
    description: str
    location: str = ""  # apiKey: header, query or cookie
    parameter: str = ""  # apiKey: the header, query parameter or cookie name
    scheme: str = ""  # http: basic, bearer, ...
    bearer_format: str = ""
    flows: dict[str, Any] = field(default_factory=dict)  # oauth2
    url: str = ""  # openIdConnect


@dataclass(frozen=True)
class Credential:
    """A credential an operation's implementation receives as the keyword argument `key`."""

    scheme: str  # spec name of the security scheme
    key: str
    required: bool  # present whenever the operation runs (in every alternative, none empty)


@dataclass(frozen=True)
class Operation:
    """One operation: a route, a Protocol method and a set of synthesized models."""

    operation_id: str
    name: str  # Protocol method and route function name
    stem: str  # PascalCase prefix of the models synthesized for it
    method: str  # lower case
    path: str  # as written in the spec
    route_path: str  # Starlette path: template variables renamed to identifiers
    path_variables: dict[str, str]  # route variable -> spec name
    tag: str
    summary: str
    description: str
    deprecated: bool
    parameters: tuple[Parameter, ...]
    body: RequestBody | None
    responses: tuple[Response, ...]
    arguments_model: str
    callbacks: tuple[str, ...]
    pointer: str
    server_path: str | None = None  # base path of the operation's own (path or operation) servers
    # Alternatives of security schemes (spec names) that must all be present; () for none.
    security: tuple[tuple[str, ...], ...] = ()
    # The same alternatives with the OAuth2 / OpenID Connect scopes each scheme asks for, for the
    # implementation's docstring (checking scopes is the implementation's business).
    scopes: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...] = ()
    credentials: tuple[Credential, ...] = ()
    base: str = ""  # the path the key names, before `?` or `#` (the key itself without them)
    discriminators: tuple[Discriminator, ...] = ()  # the parameters the path key names
    # Whether other operations share the operation's route (path and method): a request then
    # goes to the one whose discriminators it carries.
    dispatched: bool = False

    @property
    def success(self) -> Response | None:
        """The response a plain return value takes: the first 2xx, else `default`."""
        for r in self.responses:
            if r.is_success:
                return r
        return next((r for r in self.responses if r.status == "default"), None)

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(r.status for r in self.responses)

    @property
    def validation_status(self) -> int:
        """Status of a request that fails validation: 422, else 400 where declared; else a
        declared status of no meaning in HTTP that says it is for invalid requests (AWS's
        documents give each exception a status of its own: `482: ValidationException`); else
        422."""
        for status in ("422", "400", "4XX"):
            if status in self.statuses:
                return 400 if status == "4XX" else int(status)
        if "default" not in self.statuses:
            for r in self.responses:
                # 460-499: statuses HTTP gives no meaning of their own (401 "Invalid token" is not one)
                if r.status.isdigit() and 460 <= int(r.status) <= 499 and _INVALID_REQUEST.search(r.description):
                    return int(r.status)
        return 422

    @property
    def path_validation_status(self) -> int:
        """Status of a request whose path parameter fails validation."""
        if "422" in self.statuses or "400" in self.statuses:
            return self.validation_status
        if "404" in self.statuses:
            return 404
        return self.validation_status


@dataclass(frozen=True)
class Tag:
    """A tag with operations: one router module and one Protocol."""

    name: str
    description: str
    module: str
    protocol: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class Api:
    """Everything the renderer needs."""

    title: str
    version: str
    description: str
    package: str
    openapi: str  # "3.0" or "3.1"
    tags: tuple[Tag, ...]
    operations: tuple[Operation, ...]
    model_schemas: dict[str, Any]  # component and synthesized schemas, in order
    document: dict[str, Any]  # the bundled document as written (served at /openapi.json)
    normalized: dict[str, Any]  # the same with every schema in the 2020-12 dialect
    servers: tuple[str, ...]
    base_path: str = ""  # path of the first server's URL: where the operations are served
    security_schemes: tuple[SecurityScheme, ...] = ()
    webhooks: tuple[str, ...] = ()  # `name: METHOD` of each webhook (requests the API sends)
    notes: tuple[str, ...] = field(default=())
    warnings: tuple[SpecWarning, ...] = ()  # rules the spec breaks, worked around (--lenient)
    fixes: tuple[Fix, ...] = ()  # how --lenient reads the document (see `load.Document.fixes`)
    # Digests of the normalized path items and component schemas (as compact JSON), by JSON
    # pointer, where the loader gave them: the checks' memo is keyed by them.
    digests: dict[str, str] = field(default_factory=dict)
    # `document`'s path items and component schemas as compact JSON, where the loader gave them.
    document_texts: dict[str, str] = field(default_factory=dict)
    # The digest of each operation's repr, by its pointer, where the IR took it (the renderer's
    # memo of a tag is keyed by its operations).
    operation_digests: dict[str, str] = field(default_factory=dict)


def normalized_shard(key: str) -> str:
    """The memo shard of a `_normalized` key: its digest."""
    return key.rsplit("\0", 1)[1]


def _normalized(doc: Document, memo: Memo | None) -> tuple[dict[str, Any], dict[str, str]]:
    """`normalize_document` of `doc`, each path item and component schema loaded with a digest
    taken from `memo` (its normalized JSON, by version and digest) or normalized alone
    (`normalize_fragment`) and put there; and the digests of those normalized fragments (the
    checks' memo keys by them)."""
    paths, schemas = member(doc.data, "paths"), member(member(doc.data, "components"), "schemas")
    if memo is None or doc.fixes or not doc.digests:
        return normalize_document(doc.data, doc.version, doc.fixes), {}
    kept = {pointer("paths", k) for k in paths} | {pointer("components", "schemas", k) for k in schemas}
    kept &= set(doc.digests)
    skeleton = dict(doc.data)
    if paths:
        skeleton["paths"] = {k: v for k, v in paths.items() if pointer("paths", k) not in kept}
    if schemas:
        skeleton["components"] = {**doc.data["components"], "schemas": {k: v for k, v in schemas.items() if pointer("components", "schemas", k) not in kept}}
    data = normalize_document(skeleton, doc.version)
    digests: dict[str, str] = {}

    def fragment(place: str, kind: str, value: Any) -> Any:
        key = f"{doc.version}\0{kind}\0{doc.digests[place]}"
        entry = memo.get(key)
        if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str) and isinstance(entry[1], bytes):
            try:
                normalized = marshal.loads(entry[1])  # new objects, hit or not
            except (EOFError, ValueError, TypeError):
                pass
            else:
                digests[place] = entry[0]
                return normalized
        text = compact_json(normalize_fragment(kind, value, doc.version))
        # The digest of the normalized fragment's compact JSON: what the checks key by.
        digests[place] = text_digest(text)
        normalized = json.loads(text)  # as the memo gives it back next time: lists, string keys
        memo.put(key, [digests[place], marshal.dumps(normalized)])
        return normalized

    if paths:
        normalized_paths = data["paths"]
        data["paths"] = {
            k: fragment(pointer("paths", k), "path", v) if pointer("paths", k) in kept else normalized_paths[k] for k, v in paths.items()
        }
    if schemas:
        normalized_schemas = data["components"]["schemas"]
        data["components"]["schemas"] = {
            k: fragment(pointer("components", "schemas", k), "schema", v) if pointer("components", "schemas", k) in kept else normalized_schemas[k]
            for k, v in schemas.items()
        }
    return data, digests


class _Builder:
    def __init__(
        self, doc: Document, package: str | None, lenient: bool = False, memo: Memo | None = None, operations: Memo | None = None
    ) -> None:
        self.doc = doc
        self.data, self.digests = _normalized(doc, memo)
        self.operations_memo = operations
        self.recording: _Record | None = None  # what the operation being built reads and names
        self.operation_digests: dict[str, str] = {}
        self.errors: list[SpecError] = []
        self.warnings: list[SpecWarning] = []
        self.reported: set[tuple[str, str]] = set()
        self.lenient = lenient
        self.package = package
        self.model_names = NameSet(set((self.data.get("components") or {}).get("schemas") or {}), separator="")
        self.synthesized: dict[str, Any] = {}
        self.schemes = self.security_schemes()
        # (path key, renamed later occurrence) -> the template name it repeats (--lenient)
        self.repeated: dict[tuple[str, str], str] = {}
        # What every operation may read beyond its path item and the `$ref`s it follows.
        self.context = text_digest(repr((doc.version, lenient, self.data.get("security"), self.schemes)))

    def error(self, message: str, ptr: str, hint: str = "") -> None:
        self.errors.append(self.doc.located(SpecError(message, file=self.doc.path, pointer=ptr, hint=hint)))

    def violation(self, message: str, ptr: str, hint: str, instead: str) -> bool:
        """A rule of OpenAPI the spec breaks: an error (False), or with --lenient a warning at the
        same place saying what is done `instead` (True: generation works around it)."""
        if (message, ptr) not in self.reported:  # path-level rules are met once per operation
            self.reported.add((message, ptr))
            if not self.lenient:
                self.error(message, ptr, hint)
            else:
                self.warnings.append(self.doc.located(SpecWarning(f"{message}; {instead}", file=self.doc.path, pointer=ptr)))
        return self.lenient

    def deref(self, node: Any, ptr: str) -> tuple[Any, str]:
        """Follow local `$ref`s of non-schema objects; returns the target and its pointer."""
        seen: list[str] = []
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                cycle = " -> ".join([*seen[seen.index(ref) :], ref])
                raise self.doc.located(
                    SpecError(
                        f"reference cycle cannot be represented: {cycle}",
                        file=self.doc.path,
                        pointer=ptr,
                        hint="each of these $refs points to the next; point one of them at a definition",
                    )
                )
            seen.append(ref)
            ptr = ref_pointer(ref)
            node = resolve_pointer(self.data, ptr)
            if self.recording is not None:
                self.recording.reads[ptr] = None
        return node, ptr

    def synthesize(self, name: str, schema: Any) -> str:
        asked, name = name, self.model_names.add(name)
        self.synthesized[name] = schema
        if self.recording is not None:
            self.recording.models.append([asked, name])
            self.recording.schemas.append(schema)
        return name

    def build(self) -> Api:
        data = self.data
        info = data.get("info") or {}
        title = str(info.get("title") or "api")
        package = self.package or package_name(title)
        op_ids: dict[str, str] = {}
        all_ids = {str(op["operationId"]) for *_, op in self.declared_operations() if op.get("operationId")}
        method_names = NameSet(separator="_")
        operations: list[Operation] = []
        for path, item, resolved_ptr, method, op in self.declared_operations():
            # Pointers name where things are declared: inside a $ref'd path item, there.
            op_ptr = f"{resolved_ptr}/{method}"
            key = split_path_key(path)
            if key is None:
                self.error(
                    f"the path key {path!r} names no parameters after its path",
                    pointer("paths", path),
                    "after `?` or `#`, a path key may only name parameters: `name`, `name=value` or `name={variable}`, joined by `&`",
                )
                continue
            op_id = str(op.get("operationId") or f"{method}_{path}")
            if op_id in op_ids:
                renamed = next(f"{op_id}_{n}" for n in range(2, len(all_ids) + 3) if f"{op_id}_{n}" not in all_ids)
                if not self.violation(
                    f"duplicate operationId {op_id!r}: also used at #{op_ids[op_id]}",
                    op_ptr + "/operationId",
                    "operationIds must be unique; rename one of the two",
                    f"this one is renamed {renamed!r}",
                ):
                    continue
                all_ids.add(renamed)
                op_id = renamed
            op_ids[op_id] = op_ptr
            built = self.memoized_operation(
                path,
                method,
                resolved_ptr,
                op_id,
                method_names,
                lambda: self.operation(path, key, method, item, resolved_ptr, op, op_id, op_ptr, method_names),  # noqa: B023 - called at once
            )
            if built is not None:
                operations.append(built)
        operations = self.routes(operations)
        self.check_alias_cycles()
        if self.errors:
            raise SpecErrors(self.errors)
        tags = self.tags(operations)
        components = dict((data.get("components") or {}).get("schemas") or {})
        servers = tuple(
            str(s.get("url", "")) for s in data.get("servers") or [] if isinstance(s, dict)
        )
        return Api(
            base_path=server_path(data.get("servers")) or "",
            security_schemes=tuple(self.schemes.values()),
            webhooks=tuple(self.outgoing(data.get("webhooks"), "/webhooks")),
            title=title,
            version=str(info.get("version", "")),
            description=str(info.get("description") or ""),
            package=package,
            openapi=self.doc.version,
            tags=tags,
            operations=tuple(operations),
            model_schemas={**components, **self.synthesized},
            digests=self.digests,
            document=self.doc.data,
            document_texts=self.doc.texts,
            operation_digests=self.operation_digests,
            normalized=data,
            servers=servers,
            warnings=tuple(self.warnings),
            fixes=self.doc.fixes,
        )

    def memoized_operation(
        self, path: str, method: str, item_ptr: str, op_id: str, method_names: NameSet, operation: Callable[[], Operation | None]
    ) -> Operation | None:
        """`operation()` (`_Builder.operation` of one operation), from the memo when the last
        run built it from the same path item (by digest), path, method, operationId and
        context, every `$ref` it followed out of its path item still names what it named (by
        digest), and each name it took (its method's, its models') would be the same now;
        else built, and kept for the next run when it raised no error or warning."""
        memo = self.operations_memo
        place = pointer("paths", path)
        if memo is None or item_ptr != place or place not in self.digests or self.doc.fixes:
            return operation()
        memo_key = f"{self.digests[place]}\0{path}\0{method}\0{op_id}\0{self.context}"
        replayed = self._replayed(memo.peek(memo_key), method_names)
        if replayed is not None:
            memo.get(memo_key)  # used: kept for the next run
            return replayed
        counts = (len(self.errors), len(self.warnings), len(self.reported), len(self.repeated))
        record = self.recording = _Record()
        method_names.log = record.methods
        try:
            built = operation()
        finally:
            self.recording = None
            method_names.log = None
        if built is None or counts != (len(self.errors), len(self.warnings), len(self.reported), len(self.repeated)):
            return built
        encoded = _encode(built)
        reads = [[ptr, self._digest_at(ptr)] for ptr in record.reads if ptr != place and not ptr.startswith(place + "/")]
        entry = [reads, record.methods, record.models, record.schemas, encoded, text_digest(repr(built))]
        try:
            kept = marshal.loads(marshal.dumps(entry))  # as it is now, whatever becomes of its values
        except ValueError:  # a value marshal cannot hold: not kept
            return built
        if _decode(Operation, kept[4]) == built:
            memo.put(memo_key, kept)
            self.operation_digests[built.pointer] = kept[-1]
        return built

    def _replayed(self, entry: Any, method_names: NameSet) -> Operation | None:
        if not (isinstance(entry, list) and len(entry) == 6):
            return None
        reads, methods, models, schemas, encoded, digest = entry
        try:
            if any(self._digest_at(ptr) != known for ptr, known in reads):
                return None
            if not (method_names.would_give(methods) and self.model_names.would_give(models)):
                return None
            built = _decode(Operation, encoded)
        except (KeyError, IndexError, ValueError, TypeError):
            return None
        for name, _ in methods:
            method_names.add(name)
        for (name, _), schema in zip(models, schemas, strict=True):
            self.synthesized[self.model_names.add(name)] = marshal.loads(marshal.dumps(schema))
        self.operation_digests[built.pointer] = digest
        return built

    def _digest_at(self, ptr: str) -> str | None:
        """The digest of what `ptr` names now (None: nothing)."""
        if ptr in self.digests:
            return self.digests[ptr]
        try:
            return json_digest(resolve_pointer(self.data, ptr))
        except (KeyError, IndexError, ValueError, TypeError):
            return None

    def declared_operations(self) -> list[tuple[str, dict[str, Any], str, str, dict[str, Any]]]:
        """(path key, path item, where the item is declared, method, operation) of each operation."""
        found = []
        for path, item in (self.data.get("paths") or {}).items():
            item, resolved_ptr = self.deref(item, pointer("paths", path))
            if isinstance(item, dict):
                found += [(path, item, resolved_ptr, m, item[m]) for m in item if m in HTTP_METHODS and isinstance(item[m], dict)]
        return found

    def routes(self, operations: list[Operation]) -> list[Operation]:
        """The operations, those sharing a route (path and method) marked `dispatched`.

        Paths differing only in their template names are identical to OpenAPI (a rule the spec
        breaks), and operations sharing a route must differ in the parameters their keys name.
        """
        shapes: dict[tuple[str | None, str], list[Operation]] = {}
        for op in operations:
            shapes.setdefault((op.server_path, TEMPLATE_VAR.sub("{}", op.route_path)), []).append(op)
        shared: set[str] = set()
        for group in shapes.values():
            bases = list(dict.fromkeys(op.base for op in group))
            for base in bases[1:]:
                first = next(op.path for op in group if op.base == bases[0])
                second = next(op.path for op in group if op.base == base)
                self.violation(
                    f"paths {first!r} and {second!r} differ only in the names of their template variables, "
                    "so OpenAPI calls them identical",
                    pointer("paths", second),
                    "name the variables alike in both paths, or merge the two path items",
                    "both are served as one route, each operation reading its own variable names",
                )
            for method in dict.fromkeys(op.method for op in group):
                sharing = [op for op in group if op.method == method]
                if len(sharing) < 2:
                    continue
                shared.update(op.operation_id for op in sharing)
                for index, op in enumerate(sharing):
                    twin = next((other for other in sharing[:index] if _indistinguishable(other, op)), None)
                    if twin is not None:
                        self.violation(
                            f"{method.upper()} {twin.path} ({twin.operation_id}) and {method.upper()} {op.path} "
                            f"({op.operation_id}) share a route and no parameter tells them apart",
                            op.pointer,
                            f"name a parameter after `#` or `?` in one of the path keys (`{op.base}#name=value`), or merge the operations",
                            f"a request goes to the first whose path parameters accept its values, else whose checks accept it whole ({twin.operation_id}, then {op.operation_id})",
                        )
        return [dataclasses.replace(op, dispatched=True) if op.operation_id in shared else op for op in operations]

    def check_alias_cycles(self) -> None:
        """Schemas that only stand for another schema must not stand for themselves."""
        schemas = (self.data.get("components") or {}).get("schemas") or {}

        def target(schema: Any) -> str | None:
            if not isinstance(schema, dict):
                return None
            structural = {k for k in schema if k not in _ANNOTATIONS}
            ref = schema.get("$ref")
            if structural == {"$ref"}:
                return schema_name(ref)
            for key in ("allOf", "anyOf", "oneOf"):
                if structural == {key} and isinstance(schema[key], list) and len(schema[key]) == 1:
                    return target(schema[key][0])
            return None

        reported: set[str] = set()
        for start in schemas:
            chain = [start]
            node = target(schemas[start])
            while node is not None and node in schemas and node not in chain:
                chain.append(node)
                node = target(schemas[node])
            if node is not None and node in chain and not reported & set(chain):
                cycle = chain[chain.index(node) :] + [node]
                reported.update(cycle)
                self.error(
                    "reference cycle cannot be represented: " + " -> ".join(cycle),
                    pointer("components", "schemas", cycle[0]),
                    "each of these schemas only refers to the next; give one of them a type or properties",
                )

    def tags(self, operations: list[Operation]) -> tuple[Tag, ...]:
        order: list[str] = []
        described = {}
        for t in self.data.get("tags") or []:
            if isinstance(t, dict) and "name" in t:
                order.append(str(t["name"]))
                described[str(t["name"])] = str(t.get("description") or "")
        for op in operations:
            if op.tag not in order:
                order.append(op.tag)
        modules = NameSet({"__init__"})
        protocols = NameSet(separator="")
        result = []
        for name in order:
            ops = tuple(op for op in operations if op.tag == name)
            if not ops:
                continue
            result.append(
                Tag(
                    name=name,
                    description=described.get(name, ""),
                    module=modules.add(snake(ascii_letters(name), prefix="tag")),
                    protocol=protocols.add(pascal(name, prefix="Tag") + "Api"),
                    operations=ops,
                )
            )
        return tuple(result)

    def operation(
        self,
        path: str,
        key: tuple[str, tuple[KeyParameter, ...]],
        method: str,
        item: dict[str, Any],
        item_ptr: str,
        op: dict[str, Any],
        op_id: str,
        op_ptr: str,
        method_names: NameSet,
    ) -> Operation | None:
        name = snake(op_id, prefix="op")
        name = method_names.add(name + "_" if name in ROUTER_GLOBALS else name)
        stem = pascal(op_id, prefix="Op")
        base, key_parameters = key
        base = self.unique_variables(path, base)
        if base is None:
            return None
        raw = self.raw_parameters(item, op, item_ptr, op_ptr)
        params = self.template_parameters(path, base, key_parameters, self.parameters(raw), op_ptr)
        if params is None:
            return None
        route_vars: dict[str, str] = {}
        route_names = NameSet(separator="_")

        def rename(match: re.Match[str]) -> str:
            # Starlette only recognizes ASCII identifiers as path variables.
            route_name = route_names.add(snake(ascii_letters(match.group(1)), prefix="p"))
            route_vars[route_name] = match.group(1)
            return "{" + route_name + "}"

        route_path = TEMPLATE_VAR.sub(rename, base)
        if not route_path.startswith("/"):
            route_path = "/" + route_path
        body = self.request_body(op, op_ptr, stem)
        responses = self.responses(op, op_ptr, stem)
        if "security" in op:
            alternatives = self.security(op["security"], op_ptr + "/security")
        else:
            alternatives = self.security(self.data.get("security"), "/security")
        # An empty alternative needs nothing: the credentials are then optional.
        security = tuple(dict.fromkeys(tuple(name for name, _ in option) for option in alternatives))
        credentials = self.credentials(security, {p.key for p in params})
        arguments = self.arguments_schema(params, body, stem)
        arguments_model = self.synthesize(stem + "Arguments", arguments)
        tags = op.get("tags") or []
        callbacks = self.callbacks(op.get("callbacks"), op_ptr + "/callbacks")
        own_servers = op.get("servers") if op.get("servers") else item.get("servers")
        return Operation(
            operation_id=op_id,
            name=name,
            stem=stem,
            method=method,
            path=path,
            route_path=route_path,
            path_variables=route_vars,
            tag=str(tags[0]) if tags else "default",
            summary=str(op.get("summary") or ""),
            description=str(op.get("description") or ""),
            deprecated=bool(op.get("deprecated", False)),
            parameters=tuple(params),
            body=body,
            responses=tuple(responses),
            arguments_model=arguments_model,
            callbacks=callbacks,
            pointer=op_ptr,
            server_path=server_path(own_servers),
            security=security,
            scopes=alternatives if any(scopes for option in alternatives for _, scopes in option) else (),
            credentials=credentials,
            base=base,
            discriminators=self.discriminators(key_parameters, raw),
        )

    def unique_variables(self, path: str, base: str) -> str | None:
        """`base` with each template name once: a repeated one breaks a rule, and --lenient
        renames its later occurrences (`/a/{id}/b/{id}` -> `/a/{id}/b/{id_2}`)."""
        names = TEMPLATE_VAR.findall(base)
        seen: set[str] = set()
        taken = set(names)

        def rename(match: re.Match[str]) -> str:
            var = match.group(1)
            if var not in seen:
                seen.add(var)
                return match.group(0)
            fresh = next(f"{var}_{n}" for n in range(2, len(taken) + 3) if f"{var}_{n}" not in taken)
            taken.add(fresh)
            if not self.violation(
                f"path template names {{{var}}} twice",
                pointer("paths", path),
                "each template variable may appear once in a path",
                f"the second {{{var}}} is read as the path parameter {fresh!r}, of the same schema",
            ):
                raise _Refused
            self.repeated[(path, fresh)] = var
            return "{" + fresh + "}"

        try:
            return TEMPLATE_VAR.sub(rename, base)
        except _Refused:
            return None

    def template_parameters(
        self, path: str, base: str, key_parameters: tuple[KeyParameter, ...], params: list[Parameter], op_ptr: str
    ) -> list[Parameter] | None:
        """The parameters, matched with the path's template variables (OpenAPI: one required path
        parameter per variable and none other). A variable in the key's query part
        (`?term={term}`) is a query parameter of that name, whichever location declares it."""
        in_path = TEMPLATE_VAR.findall(base)
        in_query = {k.variable: k for k in key_parameters if k.variable is not None and k.variable not in in_path}
        declared = {p.name for p in params if p.location == "path"}
        keys = NameSet({"body", *(p.key for p in params)}, separator="_")
        result: list[Parameter] = []
        for p in params:
            named = in_query.get(p.name)
            if named is not None and p.location in ("path", "query"):
                # Read from the query under the key's name, as a query parameter is read.
                p = dataclasses.replace(p, location="query", name=named.name, style="form", explode=True)
            elif p.location == "path" and p.name not in in_path:
                if not self.violation(
                    f"path parameter {p.name!r} does not appear in the path {path!r}",
                    p.pointer,
                    f"add {{{p.name}}} to the path or remove the parameter",
                    "it is dropped",
                ):
                    return None
                continue
            result.append(p)
        for var in in_path:
            if var in declared:
                continue
            original = self.repeated.get((path, var))
            twin = next((p for p in params if p.location == "path" and p.name == original), None)
            if twin is not None:
                result.append(dataclasses.replace(twin, name=var, key=keys.add(snake(var, prefix="param"))))
                continue
            if not self.violation(
                f"path template variable {{{var}}} has no path parameter",
                op_ptr,
                f"declare a parameter `{var}` with `in: path` and `required: true`",
                "it is read as a required string path parameter",
            ):
                return None
            result.append(_undeclared(var, "path", keys, op_ptr))
        for var, named in in_query.items():
            if var in declared or any(p.location == "query" and p.name == named.name for p in result):
                continue
            if not self.violation(
                f"path template variable {{{var}}} has no path parameter",
                op_ptr,
                f"declare a parameter `{var}` with `in: path` (or `in: query`) and `required: true`",
                f"it is read as the required string query parameter {named.name!r}",
            ):
                return None
            result.append(_undeclared(named.name, "query", keys, op_ptr))
        order = {"path": 0, "query": 1, "header": 2, "cookie": 3}
        return sorted(result, key=lambda p: order[p.location])

    def discriminators(self, key_parameters: tuple[KeyParameter, ...], raw: list[tuple[dict[str, Any], str]]) -> tuple[Discriminator, ...]:
        """What the path key says a request of the operation carries: each parameter it names,
        in the location a parameter declares it (header or query), else in the query."""
        found = []
        for k in key_parameters:
            if k.variable is not None:
                found.append(Discriminator("query", k.name, None, required=True))
                continue
            declared = next(
                (
                    p
                    for p, _ in raw
                    if (p.get("in") == "query" and p.get("name") == k.name)
                    or (p.get("in") == "header" and str(p.get("name")).lower() == k.name.lower())
                ),
                None,
            )
            if declared is not None:
                found.append(Discriminator(str(declared["in"]), str(declared["name"]), k.value, required=True))
            else:
                found.append(Discriminator("query", k.name, k.value, required=k.sent))
        return tuple(dict.fromkeys(found))

    def callbacks(self, declared: Any, ptr: str) -> tuple[str, ...]:
        """Each outgoing request of the operation's callbacks: `name: METHOD expression`."""
        found = []
        for name, callback in sorted((declared or {}).items()):
            callback, callback_ptr = self.deref(callback, f"{ptr}/{name}")
            found += [f"{name}: {request}" for request in self.outgoing(callback, callback_ptr)]
        return tuple(found)

    def outgoing(self, items: Any, ptr: str) -> list[str]:
        """`METHOD key` of each operation in a map of path items (a callback, the webhooks)."""
        found = []
        for key, item in (items if isinstance(items, dict) else {}).items():
            item, _ = self.deref(item, ptr + pointer(key))
            found += [f"{method.upper()} {key}" for method in HTTP_METHODS if isinstance(item, dict) and method in item]
        return found

    def security_schemes(self) -> dict[str, SecurityScheme]:
        declared = (self.data.get("components") or {}).get("securitySchemes") or {}
        keys = NameSet(set(ROUTER_GLOBALS) | {"request", "security", "Any", "Security"}, separator="_")
        schemes = {}
        for name, raw in declared.items():
            scheme, _ = self.deref(raw, pointer("components", "securitySchemes", name))
            if not isinstance(scheme, dict):
                continue
            text = functools.partial(_text_of, scheme)
            schemes[name] = SecurityScheme(
                name=name,
                key=keys.add(snake(ascii_letters(name), prefix="scheme")),
                kind=text("type"),
                description=text("description"),
                location=text("in"),
                parameter=text("name"),
                scheme=text("scheme"),
                bearer_format=text("bearerFormat"),
                flows=dict(scheme.get("flows") or {}),
                url=text("openIdConnectUrl"),
            )
        return schemes

    def security(self, requirements: Any, ptr: str) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], ...]:
        """Alternatives of (scheme, scopes) an operation requires; mutual TLS is left to the
        server that terminates TLS (an alternative of it alone needs nothing here)."""
        result = []
        for i, requirement in enumerate(requirements or []):
            if not isinstance(requirement, dict):
                continue
            for name in requirement:
                if name not in self.schemes:
                    self.violation(
                        f"security requirement names the undeclared scheme {name!r}",
                        f"{ptr}/{i}",
                        "declare it under components.securitySchemes, or fix the name",
                        "the scheme is dropped from the requirement (which asks for no credentials once empty)",
                    )
            result.append(
                tuple(
                    (name, tuple(str(s) for s in scopes) if isinstance(scopes, list) else ())
                    for name, scopes in requirement.items()
                    if name in self.schemes and self.schemes[name].kind != "mutualTLS"
                )
            )
        return tuple(dict.fromkeys(result))

    def credentials(self, security: tuple[tuple[str, ...], ...], taken: set[str]) -> tuple[Credential, ...]:
        keys = NameSet({"body", "request", *taken, *ROUTER_GLOBALS}, separator="_")
        names = list(dict.fromkeys(name for option in security for name in option))
        return tuple(
            Credential(
                scheme=name,
                key=keys.add(self.schemes[name].key),
                required=all(name in option for option in security),
            )
            for name in names
        )

    def raw_parameters(self, item: dict[str, Any], op: dict[str, Any], item_ptr: str, op_ptr: str) -> list[tuple[dict[str, Any], str]]:
        """The parameter objects of an operation and where each is declared: the path item's,
        replaced by the operation's of the same name and location."""
        merged: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        for source, base in ((item, item_ptr), (op, op_ptr)):
            for i, raw in enumerate(source.get("parameters") or []):
                p, resolved = self.deref(raw, f"{base}/parameters/{i}")
                if not isinstance(p, dict):
                    continue
                merged[(str(p.get("name")), str(p.get("in")))] = (p, resolved)
        return list(merged.values())

    def parameters(self, raw: list[tuple[dict[str, Any], str]]) -> list[Parameter]:
        keys = NameSet({"body"}, separator="_")
        taken_plain: set[str] = set()
        result = []
        # Path first, then query, header, cookie: the order arguments are documented in.
        order = {"path": 0, "query": 1, "header": 2, "cookie": 3}
        for p, ptr in sorted(raw, key=lambda entry: order.get(str(entry[0].get("in")), 9)):
            pname, location = str(p.get("name")), str(p.get("in"))
            if location not in order:
                continue
            plain = snake(pname, prefix="param")
            key = keys.add(plain if plain not in taken_plain else f"{location}_{plain}")
            taken_plain.add(plain)
            content_type = None
            schema = p.get("schema", {})
            schema_pointer = ptr + "/schema"
            if "content" in p and isinstance(p["content"], dict) and p["content"]:
                content_type, media = next(iter(p["content"].items()))
                schema = (media or {}).get("schema", {})
                schema_pointer = ptr + pointer("content", content_type, "schema")
            style = str(p.get("style") or DEFAULT_STYLE[location])
            explode = bool(p.get("explode", style == "form"))
            # OpenAPI ignores the header parameters Content-Type and Authorization (described
            # elsewhere); Accept is passed through because some specs (A2A) branch on it.
            if location == "header" and pname.lower() in ("content-type", "authorization"):
                continue
            resolved_default = schema.get("default") if isinstance(schema, dict) else None
            result.append(
                Parameter(
                    name=pname,
                    location=location,
                    key=key,
                    required=bool(p.get("required", False)) or location == "path",
                    schema=schema,
                    style=style,
                    explode=explode,
                    allow_reserved=bool(p.get("allowReserved", False)),
                    allow_empty_value=bool(p.get("allowEmptyValue", False)),
                    content_type=content_type,
                    description=str(p.get("description") or ""),
                    deprecated=bool(p.get("deprecated", False)),
                    has_default=isinstance(schema, dict) and "default" in schema,
                    default=resolved_default,
                    pointer=ptr,
                    schema_pointer=schema_pointer,
                )
            )
        return result

    def media_types(self, content: Any, base: str) -> tuple[MediaType, ...]:
        result = []
        for ctype, media in (content or {}).items():
            media = media if isinstance(media, dict) else {}
            media_ptr = base + pointer("content", ctype)
            example, has_example, example_ptr = None, False, None
            if "example" in media:
                example, has_example, example_ptr = media["example"], True, media_ptr + "/example"
            elif isinstance(media.get("examples"), dict):
                for ex_name, ex in media["examples"].items():
                    ex, ex_ptr = self.deref(ex, media_ptr + pointer("examples", ex_name))
                    if isinstance(ex, dict) and "value" in ex:
                        example, has_example, example_ptr = ex["value"], True, ex_ptr + "/value"
                        break
            result.append(
                MediaType(
                    content_type=str(ctype),
                    schema=media.get("schema"),
                    encoding=dict(media.get("encoding") or {}),
                    example=example,
                    has_example=has_example,
                    pointer=media_ptr,
                    example_pointer=example_ptr,
                )
            )
        return tuple(result)

    def request_body(self, op: dict[str, Any], op_ptr: str, stem: str) -> RequestBody | None:
        if "requestBody" not in op:
            return None
        body, body_ptr = self.deref(op["requestBody"], op_ptr + "/requestBody")
        media = self.media_types(body.get("content"), body_ptr)
        schemas = [m.schema if m.schema is not None else _default_body_schema(m) for m in media]
        if not schemas:
            schema: Any = {}
        elif all(s == schemas[0] for s in schemas):
            schema = schemas[0]
        else:
            schema = {"anyOf": schemas}
        if isinstance(schema, dict) and "$ref" not in schema and _needs_model(schema):
            schema = {"$ref": "#/components/schemas/" + self.synthesize(stem + "Body", schema)}
        return RequestBody(
            key="body",
            required=bool(body.get("required", False)),
            media_types=media,
            description=str(body.get("description") or ""),
            schema=schema,
            pointer=body_ptr,
        )

    def responses(self, op: dict[str, Any], op_ptr: str, stem: str) -> list[Response]:
        result = []
        raw = op.get("responses") or {}
        successes = [s for s in raw if str(s).startswith("2")]
        for raw_status, r in raw.items():
            status = str(raw_status).upper() if str(raw_status).lower() != "default" else "default"
            r, r_ptr = self.deref(r, op_ptr + pointer("responses", raw_status))
            if not isinstance(r, dict):
                continue
            media = self.media_types(r.get("content"), r_ptr)
            model = None
            json_media = next((m for m in media if m.is_json), None)
            if (
                json_media is not None
                and isinstance(json_media.schema, dict)
                and "$ref" not in json_media.schema
                and _needs_model(json_media.schema)
            ):
                suffix = "Response" if len(successes) <= 1 and status.startswith("2") else f"Response{status}"
                model = self.synthesize(stem + pascal(suffix), json_media.schema)
            headers = []
            for hname, h in (r.get("headers") or {}).items():
                h, h_ptr = self.deref(h, r_ptr + pointer("headers", hname))
                if not isinstance(h, dict):
                    continue
                schema = h.get("schema", {})
                schema_ptr = h_ptr + "/schema"
                if "content" in h and isinstance(h["content"], dict) and h["content"]:
                    ctype = next(iter(h["content"]))
                    schema = (h["content"][ctype] or {}).get("schema", {})
                    schema_ptr = h_ptr + pointer("content", ctype, "schema")
                headers.append(
                    Header(
                        name=str(hname),
                        required=bool(h.get("required", False)),
                        schema=schema,
                        description=str(h.get("description") or ""),
                        schema_pointer=schema_ptr,
                    )
                )
            result.append(
                Response(
                    status=status,
                    description=str(r.get("description") or ""),
                    media_types=media,
                    headers=tuple(headers),
                    model=model,
                )
            )
        return result

    def arguments_schema(self, params: list[Parameter], body: RequestBody | None, stem: str) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for p in params:
            schema = p.schema
            if isinstance(schema, dict) and "$ref" not in schema and _needs_model(schema):
                hoisted = {k: v for k, v in schema.items() if k != "default"}
                schema = {"$ref": "#/components/schemas/" + self.synthesize(stem + pascal(p.key), hoisted)}
                if p.has_default:
                    schema["default"] = p.default
            properties[p.key] = schema
            if p.required:
                required.append(p.key)
        if body is not None:
            properties[body.key] = body.schema
            if body.required:
                required.append(body.key)
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        return schema


_ANNOTATIONS = {"title", "description", "default", "examples", "example", "deprecated", "readOnly", "writeOnly", "$comment", "externalDocs", "xml"}


def _text_of(node: dict[str, Any], key: str) -> str:
    return str(node.get(key) or "")


class _Refused(Exception):
    """A rule the spec breaks, reported as an error: the operation is not built."""


def _undeclared(name: str, location: str, keys: NameSet, ptr: str) -> Parameter:
    """A required string parameter the spec uses without declaring it (--lenient)."""
    return Parameter(
        name=name,
        location=location,
        key=keys.add(snake(name, prefix="param")),
        required=True,
        schema={"type": "string"},
        style=DEFAULT_STYLE[location],
        explode=location == "query",
        allow_reserved=False,
        allow_empty_value=False,
        content_type=None,
        description="",
        deprecated=False,
        has_default=False,
        default=None,
        pointer=ptr,
        schema_pointer="",
    )


def _indistinguishable(a: Operation, b: Operation) -> bool:
    """Whether no request tells `a` and `b` (sharing a route) apart: the same parameters named
    in their keys, and request bodies of a common media type (or neither has one)."""
    if set(a.discriminators) != set(b.discriminators):
        return False
    media_a = {m.content_type for m in a.body.media_types} if a.body else set()
    media_b = {m.content_type for m in b.body.media_types} if b.body else set()
    return media_a == media_b == set() or bool(media_a & media_b)


# What a response's description says when it is the answer to a request that is not valid.
_INVALID_REQUEST = re.compile(r"\b(Validation|Invalid\w*|BadRequest|Bad Request|Malformed\w*)(Exception|Error)?\b")


def split_path_key(key: str) -> tuple[str, tuple[KeyParameter, ...]] | None:
    """The path a path key names and the parameters it names after `?` or `#`:
    `/search?term={term}` -> ("/search", (term={term},)); None when what follows is not
    parameters (`name`, `name=value`, `name={variable}`, joined by `&`)."""
    cut = re.search(r"[?#]", key)
    if cut is None:
        return key, ()
    found = []
    sent = True
    for part in re.split(r"([?#&])", key[cut.start() :]):
        if part in ("?", "#", "&"):
            sent = sent and part != "#"
            continue
        if not part:
            continue
        match = _KEY_PARAMETER.fullmatch(part)
        if match is None:
            return None
        name, variable, value = match.groups()
        found.append(KeyParameter(name=name, value=value if variable is None else None, variable=variable, sent=sent))
    return key[: cut.start()], tuple(found)


_KEY_PARAMETER = re.compile(r"([^=&/{}?#]+)(?:=(?:\{([^{}]+)\}|([^&{}]*)))?")


def _default_body_schema(media: MediaType) -> dict[str, Any]:
    """What a body of a media type without a schema is: any JSON, text, or bytes."""
    if media.is_json or media.content_type.split(";")[0].strip() in ("*/*", "application/x-www-form-urlencoded", "multipart/form-data"):
        return {}
    if media.content_type.startswith("text/"):
        return {"type": "string"}
    return {"type": "string", "format": "binary"}


def server_path(servers: Any) -> str | None:
    """The path of the first server's URL, variables at their defaults ("" for the root), or
    None without servers: `https://{region}.example.com/api/{version}` -> `/api/v2`."""
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return None
    server = servers[0]
    variables = server.get("variables") or {}

    def default(match: re.Match[str]) -> str:
        variable = variables.get(match.group(1))
        return str(variable.get("default", "")) if isinstance(variable, dict) else ""

    url = TEMPLATE_VAR.sub(default, str(server.get("url") or ""))
    path = urlsplit(url).path if "://" in url or url.startswith("//") else url.split("?")[0].split("#")[0]
    path = "/" + unquote(path).strip("/")  # requests are routed by their decoded path
    return "" if path == "/" else path


def _needs_model(schema: dict[str, Any]) -> bool:
    """An inline schema that gets a named model: objects, enums and compositions."""
    return bool(set(schema) & {"enum", "properties", "oneOf", "anyOf", "allOf", "patternProperties"})


@dataclass
class _Record:
    """What building one operation read beyond its path item and what names it took."""

    reads: dict[str, None] = field(default_factory=dict)  # pointers its `$ref`s led to
    methods: list[list[str]] = field(default_factory=list)  # [asked, given] of its method name
    models: list[list[str]] = field(default_factory=list)  # [asked, given] of each model synthesized
    schemas: list[Any] = field(default_factory=list)  # ... and its schema


_IR_CLASSES = (Parameter, KeyParameter, Discriminator, MediaType, RequestBody, Header, Response, Credential, Operation)


def _nested(cls: type) -> tuple[tuple[int, type, bool], ...]:
    """(index, class, a tuple of them) of each field of `cls` holding IR dataclasses."""
    found = []
    for index, f in enumerate(dataclasses.fields(cls)):
        inner = next((c for c in _IR_CLASSES if re.search(rf"\b{c.__name__}\b", str(f.type))), None)
        if inner is not None:
            found.append((index, inner, str(f.type).startswith("tuple[")))
    return tuple(found)


_FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _IR_CLASSES}
_NESTED = {cls: _nested(cls) for cls in _IR_CLASSES}


def _encode(obj: Any) -> tuple[Any, ...]:
    """An IR dataclass as a tuple of its fields (the nested ones encoded alike): marshal's
    types only, read back by `_decode`."""
    values = [getattr(obj, name) for name in _FIELDS[type(obj)]]
    for index, _, many in _NESTED[type(obj)]:
        value = values[index]
        if value is not None:
            values[index] = tuple(_encode(v) for v in value) if many else _encode(value)
    return tuple(values)


def _decode(cls: type, values: Any) -> Any:
    nested = _NESTED[cls]
    if nested:
        values = list(values)
        for index, inner, many in nested:
            value = values[index]
            if value is not None:
                values[index] = tuple(_decode(inner, v) for v in value) if many else _decode(inner, value)
    return cls(*values)


def build(
    doc: Document,
    *,
    package: str | None = None,
    include_tags: list[str] | None = None,
    include_operations: list[str] | None = None,
    lenient: bool = False,
    memo: Memo | None = None,
    operations: Memo | None = None,
) -> Api:
    """Build the IR of a loaded document; raise SpecErrors for semantic problems (with
    `lenient`, those generation can work around are warnings of the Api instead).

    With `include_tags` or `include_operations` (operationIds), only those operations are
    generated, and the served document lists only them. With a `memo` (kind "normalized", raw),
    path items and schemas normalized before are read back; with `operations` (kind
    "operations", raw), operations built before (`_Builder.memoized_operation`).
    """
    api = _Builder(doc, package, lenient, memo, operations).build()
    if not include_tags and not include_operations:
        return api
    return dataclasses.replace(_select(api, set(include_tags or ()), set(include_operations or ())), digests={}, document_texts={})


def _select(api: Api, tags: set[str], operation_ids: set[str]) -> Api:
    import copy
    import dataclasses

    def wanted(op: Operation) -> bool:
        return op.tag in tags or op.operation_id in operation_ids

    kept = tuple(op for op in api.operations if wanted(op))
    kept_tags = tuple(
        dataclasses.replace(t, operations=tuple(op for op in t.operations if wanted(op)))
        for t in api.tags
        if any(wanted(op) for op in t.operations)
    )
    synthesized = {op.arguments_model for op in api.operations if not wanted(op)}
    document = copy.deepcopy(api.document)
    keep_methods = {(op.path, op.method) for op in kept}
    for path, item in list((document.get("paths") or {}).items()):
        if not isinstance(item, dict) or "$ref" in item:
            continue
        for method in [m for m in item if m in HTTP_METHODS]:
            if (path, method) not in keep_methods:
                del item[method]
        if not any(m in item for m in HTTP_METHODS):
            del document["paths"][path]
    return dataclasses.replace(
        api,
        operations=kept,
        tags=kept_tags,
        model_schemas={k: v for k, v in api.model_schemas.items() if k not in synthesized},
        document=document,
    )
