"""The views and files of one generated package (`render`, `Renderer`): see the package's
docstring."""

from __future__ import annotations

import ast
import functools
import json
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from textwrap import indent
from typing import Any

from ..cache import Memo, Store, compact_json, text_digest
from ..config import templates_dir
from ..errors import pointer as make_pointer
from ..errors import schema_name, unescape_token
from ..ir import Api, Operation, SecurityScheme, Tag
from ..load import resolve_ref
from ..names import NameSet
from ..runtime.version import RUNTIME_INTERFACE, VERSION
from . import verify
from .format import format_files
from .layout import (
    Bracket,
    Expr,
    call,
    import_from,
    keywords,
    literal,
    signature,
    statement,
    string,
)
from .models import (
    ADAPTERS,
    Field,
    Models,
    component_pointer,
    models_file,
    render_models,
    subtype_classes,
)
from .parallel import Workers
from .text import comment, docstring, document_literal, isort_names, py, ruf022_sorted
from .validators import ValidatorCompiler, owner_digests, unit_owner

TEMPLATES_PACKAGE = "codegen.templates"
PLAIN_TYPES = {
    "StrictInt": ("", "int"),
    "StrictFloat": ("", "float"),
    "UUID": ("uuid", "UUID"),
    "AwareDatetime": ("datetime", "datetime"),
}
_TYPE_NAMES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}


_ENV: Any = None
# Whether the checks and routes are made ahead from the last run's outline of the models only
# while the models are still rendering (None: the command's way), or always (True: tests, which
# render in one process, where the models are mostly done by then, take that path too).
MAKE_AHEAD: bool | None = None


def _no_stage(name: str) -> Any:
    import contextlib

    return contextlib.nullcontext()


def environment() -> Any:
    """The Jinja environment (built once per process)."""
    global _ENV
    if _ENV is None:
        import jinja2

        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir())),
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        env.filters["py"] = py
        env.filters["docstring"] = docstring
        env.filters["comment"] = comment
        _ENV = env
    return _ENV


@dataclass
class ArgumentView:
    name: str
    annotation: str
    default: str | None
    source: str


@dataclass
class CredentialView:
    key: str  # argument name (route function and implementation)
    scheme: str  # spec name of the security scheme
    dependency: str  # attribute of the generated `security` module


@dataclass
class OperationView:
    name: str
    operation_id: str
    method: str
    route_path: str
    constant: str
    summary: str
    deprecated: bool
    arguments_class: str
    spec_source: str
    arguments: list[ArgumentView]
    returns: str
    streams_only: bool
    route_docstring: str
    protocol_docstring: str
    dispatched: bool = False  # other operations share its path and method
    summary_docstring: str = ""
    glue_signature: str = ""  # the router's `def _op(service, arguments) -> object:`
    glue_call: str = ""  # its `return service.op(...)`
    protocol_signature: str = ""  # the Protocol method's `async def op(self, *, ...) -> ...:`
    route_signature: str = ""  # the route's `async def op(request) -> Response:`
    handle_call: str = ""  # the route's `return await runtime.handle(...)`
    not_implemented: str = ""  # the Protocol method's `raise NotImplementedOperation(...)`
    credentials: list[CredentialView] = field(default_factory=list)


@dataclass
class TagView:
    name: str
    module: str
    protocol: str
    docstring: str
    operations: list[OperationView]
    class_name: str = ""

    @property
    def uses_checks(self) -> bool:
        return any("checks." in op.spec_source for op in self.operations)

    @property
    def secured(self) -> bool:
        return any(op.credentials for op in self.operations)


@dataclass
class Imports:
    """`from module import name` lines, merged and sorted."""

    names: dict[str, set[str]] = field(default_factory=dict)

    def add(self, module: str, name: str) -> None:
        self.names.setdefault(module, set()).add(name)

    def lines(self) -> list[str]:
        """Standard library, then third-party imports (codegen among them: an installed library
        to the generated package), blank-line separated, in isort's order."""
        import sys

        groups: dict[int, list[str]] = {0: [], 1: []}
        for module, names in sorted(self.names.items()):
            if not module:
                continue
            group = 0 if module.split(".")[0] in sys.stdlib_module_names else 1
            groups[group].append(f"from {module} import {', '.join(isort_names(names))}")
        lines: list[str] = []
        for group in (0, 1):
            if groups[group]:
                if lines:
                    lines.append("")
                lines.extend(groups[group])
        return lines


class _Annotations:
    """Type expressions from models.py, rewritten for another module (`models.X`, imports)."""

    def __init__(self, models: Models, imports: Imports) -> None:
        self.models = models
        self.imports = imports

    def qualify(self, annotation: str) -> str:
        return self.qualified(annotation)[0]

    def qualified(self, annotation: str) -> tuple[str, tuple[str, ...]]:
        """`annotation` rewritten, and the names it reads (whether each is a class of models.py,
        and what it imports there, is all the text depends on besides `annotation`)."""
        known = self.models.qualified  # the same types recur in every module
        if annotation not in known:
            needed = Imports()
            names: dict[str, None] = {}
            text = self._qualify(annotation, needed, names)
            known[annotation] = (text, [(m, n) for m, found in needed.names.items() for n in found], tuple(names))
        text, needed_imports, names_read = known[annotation]
        for module, name in needed_imports:
            self.imports.add(module, name)
        return text, names_read

    def _qualify(self, annotation: str, imports: Imports, names: dict[str, None]) -> str:
        tree = ast.parse(annotation, mode="eval")
        models = self.models

        class Qualify(ast.NodeTransformer):
            def visit_Constant(self, node: ast.Constant) -> ast.AST:
                if isinstance(node.value, str):  # unparsed verbatim: the literal in black's quotes
                    return ast.copy_location(ast.Name(string(node.value), ast.Load()), node)
                return node

            def visit_Name(self, node: ast.Name) -> ast.AST:
                names[node.id] = None
                if node.id in models.kinds:
                    return ast.copy_location(ast.Attribute(ast.Name("models", ast.Load()), node.id, ast.Load()), node)
                if node.id not in models.imports:
                    return node
                # Imported under its own name here, whatever name models.py binds it to.
                module, name = models.imports[node.id]
                if module == "codegen.runtime" and name in PLAIN_TYPES:
                    # The runtime's JSON Schema types are these Python types to an implementation.
                    module, name = PLAIN_TYPES[name]
                if module and module not in ("__future__", "builtins"):
                    imports.add(module, name)
                return ast.copy_location(ast.Name(name, ast.Load()), node)

        return ast.unparse(Qualify().visit(tree))

    @staticmethod
    def union_members(annotation: str) -> list[str]:
        return list(_union_members(annotation))


@functools.cache  # the same annotations recur in every operation
def _union_members(annotation: str) -> tuple[str, ...]:
    """The members of a `X | Y | ...` annotation (one member for any other)."""
    tree = ast.parse(annotation, mode="eval").body
    members: list[ast.expr] = []

    def flatten(node: ast.expr) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            flatten(node.left)
            flatten(node.right)
        else:
            members.append(node)

    flatten(tree)
    return tuple(ast.unparse(m) for m in members)


@dataclass
class TagFiles:
    """A tag's share of the package: its router module, its Protocol class (for
    `protocols.py`, with the imports and flags that class needs there) and each operation's
    constant in the router (and whether other operations share its route: `app.py`)."""

    module: str
    protocol: str
    constants: list[tuple[str, bool]]
    router: str
    protocol_class: str
    imports: list[tuple[str, str]]
    mutable_defaults: bool
    uses_models: bool

    def to_json(self) -> list[Any]:
        return [
            self.module,
            self.protocol,
            [list(c) for c in self.constants],
            self.router,
            self.protocol_class,
            [list(i) for i in self.imports],
            self.mutable_defaults,
            self.uses_models,
        ]

    @classmethod
    def from_json(cls, value: Any) -> TagFiles | None:
        """The `TagFiles` a memo entry holds, or None for one not of that shape."""
        try:
            module, protocol, constants, router, protocol_class, imports, mutable, uses = value
            made = cls(
                module,
                protocol,
                [(c, bool(d)) for c, d in constants],
                router,
                protocol_class,
                [(m, n) for m, n in imports],
                mutable,
                uses,
            )
        except (TypeError, ValueError):
            return None
        texts = [module, protocol, router, protocol_class, *(c for c, _ in made.constants), *(x for i in made.imports for x in i)]
        if not all(isinstance(t, str) for t in texts) or not isinstance(mutable, bool) or not isinstance(uses, bool):
            return None
        return made


_READS = ("class_of", "fields", "origin", "name", "type_of", "json_types", "check")


class _Reads:
    """Every read the views of one tag make beyond the tag itself (models' names, fields and
    imports, check functions, the types of schemas elsewhere in the document), each noted with
    its result in `log` (as JSON). The views read through this only: a tag whose operations are
    unchanged renders the same text when each read gives what it gave then (`replay`), so a
    memo keyed by the tag holds the log beside the text. `imports` collects the imports the
    tag's Protocol class needs. `log` is None once a read could not be written down as JSON."""

    def __init__(self, renderer: Renderer, models: Models, compiler: ValidatorCompiler | None, imports: Imports) -> None:
        self._renderer = renderer
        self._models = models
        self._compiler = compiler
        self.imports = imports
        self.log: list[list[Any]] | None = []
        self._seen: set[str] = set()

    def class_of(self, schema: str) -> str:
        return str(self._note("class_of", schema))

    def fields(self, name: str) -> list[Field]:
        return [Field(*f) for f in self._note("fields", name)]

    def origin(self, name: str) -> str:
        return str(self._note("origin", name))

    def qualify(self, annotation: str) -> str:
        # The text is `annotation`'s, given what each name in it is in models.py: those are the reads.
        text, names = _Annotations(self._models, self.imports).qualified(annotation)
        for name in names:
            self._note("name", name)
        return text

    def type_of(self, schema: Any) -> str:
        text, imports = self._note("type_of", schema)
        for module, name in imports:
            self.imports.add(module, name)
        return str(text)

    def json_types(self, schema: Any) -> list[str]:
        return list(self._note("json_types", schema))

    def check(self, pointer: str) -> str:
        return str(self._note("check", pointer))

    def _note(self, kind: str, argument: Any) -> Any:
        result = self._read(kind, argument)
        if self.log is None:
            return result
        try:
            text = compact_json([kind, argument, result])
            stable = json.loads(text) == [kind, argument, result]
        except (TypeError, ValueError):
            stable = False
        if not stable:
            self.log = None  # a read the memo could not give back as it was: no entry
        elif text not in self._seen:  # a read made again gives the same (a check is made once)
            self._seen.add(text)
            self.log.append([kind, argument, result])
        return result

    def _read(self, kind: str, argument: Any) -> Any:
        """The result of a read, as JSON values (lists for tuples)."""
        models = self._models
        if kind == "class_of":
            return models.class_of(argument)
        if kind == "fields":
            return [[f.name, f.annotation, f.default, f.alias] for f in models.fields.get(argument, [])]
        if kind == "origin":
            return models.origin(argument)
        if kind == "name":
            imported = models.imports.get(argument)
            return [argument in models.kinds, list(imported) if imported is not None else None]
        if kind == "type_of":
            imports = Imports()
            text = self._renderer._type_of(argument, models, imports)
            return [text, sorted([module, name] for module, names in imports.names.items() for name in names)]
        if kind == "json_types":
            return sorted(_json_types(argument, self._renderer.api))
        if kind == "check" and self._compiler is not None:
            return self._compiler.function_for(argument)
        raise ValueError(f"no read {kind!r}")

    def replay(self, log: Any) -> bool:
        """Whether each read of `log` gives the result it holds (in order, as the views made
        them: the check functions they name are made in the same order)."""
        if not isinstance(log, list):
            return False
        for entry in log:
            if not (isinstance(entry, list) and len(entry) == 3 and entry[0] in _READS):
                return False
            kind, argument, result = entry
            try:
                if self._read(kind, argument) != result:
                    return False
            except (KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError):
                return False
        return True


def _stream_types(imports: Imports) -> str:
    imports.add("collections.abc", "AsyncIterator")
    imports.add("fastapi.sse", "ServerSentEvent")
    return "AsyncIterator[ServerSentEvent]"


# Two string literals standing in for `_spec.py`'s document while black formats the module
# around it: each too long for a line, so black leaves them one a line, as it leaves the document.
_STAND_IN_WIDTH = 100
_STAND_IN = "\n".join(f'"codegen: the document goes here ({n})' + "." * _STAND_IN_WIDTH + '"' for n in (1, 2))


class Renderer:
    """Builds every file of one generated package."""

    def __init__(
        self,
        api: Api,
        spec_label: str,
        options: dict[str, Any] | None = None,
        stage: Any = _no_stage,
        store: Store | None = None,
    ) -> None:
        self.stage = stage
        self.store = store
        self.tag_memo = store.memo("tags") if store is not None else Memo(None, "tags")
        self.api = api
        self.scheme_keys = {s.name: s.key for s in api.security_schemes}
        self.spec_label = spec_label
        self.options = {"mock": False, "validate_responses": True, **(options or {})}
        self.header = (
            f"# Generated by codegen from {comment(spec_label)}; do not edit: change the spec and run "
            "`make generate` (or `codegen generate`)."
        )

    # -- models and checks --------------------------------------------------------------------
    def resolution_document(self) -> dict[str, Any]:
        doc = dict(self.api.normalized)
        components = dict(doc.get("components") or {})
        components["schemas"] = dict(self.api.model_schemas)
        doc["components"] = components
        return doc

    def schema_digests(self) -> dict[str, str]:
        """The digest of each component schema among the models, by name, where the IR has it."""
        schemas = self.api.model_schemas
        found = {}
        for ptr, digest in self.api.digests.items():
            token = ptr.removeprefix("/components/schemas/")
            if token != ptr and "/" not in token and (name := unescape_token(token)) in schemas:
                found[name] = digest
        return found

    def render(self, workers: Workers, *, compile_files: bool = True) -> dict[str, str]:
        """Every file of the package; each compiled (in the workers) unless `compile_files` is
        False (`codegen check` compares the files only: they compile if they are the ones
        `generate` wrote)."""
        api = self.api
        start = verify.start if compile_files else _no_compile
        formatted = self.options.get("formatter") != "none"
        # The models render in a thread of their own (mostly waiting for worker processes)
        # while this one does what needs no models.
        with ThreadPoolExecutor(max_workers=1) as thread:
            submitted = threading.Event()
            pending = thread.submit(
                render_models,
                api.model_schemas,
                api.title,
                workers,
                store=self.store,
                formatted=formatted,
                submitted=submitted,
                digests=self.schema_digests(),
            )
            with self.stage("models"):
                submitted.wait()  # the parts to render are with the workers first
            with self.stage("spec"):
                document = self.resolution_document()
                digests = owner_digests(document, known=api.digests)
                memo = self.store.memo("checks", unit_owner) if self.store is not None else None
                spec_files = {"_spec.py": self.spec_file(workers if formatted else None)}
            # The checks and the modules of the routes depend on the models only through what
            # `_outline` holds (classes, pointers, fields, enum members, imports): while the
            # workers render the models, they are made from the last run's outline, and kept
            # when the models have the same one (an edit that adds, renames or reshapes no
            # class); the checks alone when the classes are the same or only added to
            # (`_checks_after`).
            earlier = self.store.recall("outline") if self.store is not None else None
            made: _Ahead | None = None
            if isinstance(earlier, str) and (MAKE_AHEAD or not pending.done()) and (ahead := _from_outline(earlier)) is not None:
                with self.stage("checks"):
                    compiler, checks = self._checks(document, memo, digests, ahead)
                    after_checks = compiler.fork()  # for routes made again from other fields
                with self.stage("routes"):
                    made = _Ahead(earlier, ahead, after_checks, checks, self._templates(ahead, compiler, checks))
            with self.stage("models"):
                models = pending.result()
        compiled = start(spec_files, workers, self.store)
        outline = compact_json(_outline(models))  # as text: JSON tells 1, 1.0 and true apart
        if self.store is not None:
            self.store.remember("outline", outline)
        if made is not None and made.outline == outline:
            files = made.files
        elif made is not None and (checks := self._checks_after(made, models)) is not None:
            # The checks made ahead hold (the classes are the same, or new ones were added
            # that nothing made ahead reads): only the routes again.
            with self.stage("routes"):
                files = self._templates(models, made.compiler, checks)
        else:
            with self.stage("checks"):
                compiler, checks = self._checks(document, memo, digests, models)
            with self.stage("routes"):
                files = self._templates(models, compiler, checks)
        if formatted:
            with self.stage("format"):
                files = format_files(files, workers, store=self.store)
        files.update(spec_files)
        compiled += start({name: text for name, text in files.items() if name not in spec_files}, workers, self.store)
        with self.stage("models"):
            files["models.py"] = models_file(
                models, self.models_head(models), self.models_tail(models), formatted=formatted, store=self.store
            )
        with self.stage("verify"):
            compiled += start({"models.py": files["models.py"]}, workers, self.store)
            verify.finish(compiled, files, workers, self.store)
        return files

    @staticmethod
    def _checks(document: dict[str, Any], memo: Memo | None, digests: dict[str, str], models: Models) -> tuple[ValidatorCompiler, dict[str, str]]:
        """The check function of each model class, by class name."""
        named = {ptr for name, ptr in models.pointers.items() if models.kinds.get(name) == "model"}
        compiler = ValidatorCompiler(document, named, memo, digests)
        checks: dict[str, str] = {}
        for name in models.kinds:
            ptr = models.pointers.get(name)
            # datamodel-code-generator names a few nested models by paths of its own (a
            # property declared again beside an allOf: `data#-datamodel-code-generator-#-
            # object-#-special-#`; siblings of a 3.0 `$ref`, which OpenAPI ignores): such a
            # class has no check of its own, the check of the schema holding it covers it.
            if ptr is not None and compiler.resolves(ptr):
                checks[name] = compiler.function_for(ptr)
        return compiler, checks

    @staticmethod
    def _checks_after(made: _Ahead, models: Models) -> dict[str, str] | None:
        """The checks of `models` from those made ahead (`made`, from the last run's classes):
        theirs when the classes are the same; theirs and those of the classes `models` adds
        after them (an operation added brings its arguments' model) when those are models of
        schemas none of theirs reads (`ValidatorCompiler.adopt`), as `_checks` would make them
        (the names a check takes follow the order of the classes); else None."""
        ahead = made.models
        kinds, pointers = list(models.kinds.items()), list(models.pointers.items())
        if kinds[: len(ahead.kinds)] != list(ahead.kinds.items()) or pointers[: len(ahead.pointers)] != list(ahead.pointers.items()):
            return None
        added = kinds[len(ahead.kinds) :]
        if {name for name, _ in pointers[len(ahead.pointers) :]} - {name for name, _ in added}:
            return None  # a class made ahead has a pointer now
        if not added:
            return made.checks
        compiler = made.compiler
        named = [ptr for name, kind in added if kind == "model" and (ptr := models.pointers.get(name)) is not None]
        if not compiler.adopt(named):
            return None
        checks = dict(made.checks)
        for name, _ in added:
            ptr = models.pointers.get(name)
            if ptr is not None and compiler.resolves(ptr):
                checks[name] = compiler.function_for(ptr)
        return checks

    def _templates(self, models: Models, compiler: ValidatorCompiler, checks: dict[str, str]) -> dict[str, str]:
        api = self.api
        tags = [self.tag_files(tag, models, compiler) for tag in api.tags]
        env = environment()
        files: dict[str, str] = {}
        context = {
            "header": self.header,
            "api": api,
            "tags": tags,
            "options": self.options,
            "protocols": isort_names(tag.protocol for tag in tags),
            "exports": ruf022_sorted(["ApiError", "NotImplementedOperation", "Reply", "create_app", *(t.protocol for t in tags)]),
            "generator_version": VERSION,
            "runtime_interface": RUNTIME_INTERFACE,
        }
        files["__init__.py"] = env.get_template("package_init.py.jinja").render(**context)
        files["py.typed"] = self.header + "\n"
        files["_validators.py"] = env.get_template("validators.py.jinja").render(
            **context,
            helpers_import=import_from(
                "codegen.runtime.checks", ["Check", *sorted(compiler.helpers if compiler.functions else ())]
            ),
            uses_re=any(src.startswith("re.compile") for src in compiler.constants),
            body="\n".join(compiler.functions_source()),
            checks=checks,
        )
        dispatched = [f"{tag.module}.{constant}" for tag in tags for constant, shared in tag.constants if shared]
        files["app.py"] = env.get_template("app.py.jinja").render(
            **context,
            routers_import=import_from(".routers", isort_names(tag.module for tag in tags)),
            routers=statement(literal("(", [f"{tag.module}.router" for tag in tags]), 0, "ROUTERS = "),
            base_path=statement(py(api.base_path), 0, "BASE_PATH = "),
            server_paths=statement(
                Bracket("", tuple((f"{py(op.name)}: ", py(op.server_path)) for op in api.operations if op.server_path is not None), "{", literal=True),
                0,
                "SERVER_PATHS: dict[str, str] = ",
            ),
            dispatched=statement(literal("(", dispatched, magic=True), 0, "DISPATCHED = ") if dispatched else "",
        )
        if api.security_schemes:
            schemes = [statement(_scheme_source(s), 0, f"{s.key} = ") for s in api.security_schemes if s.kind != "mutualTLS"]
            files["security.py"] = env.get_template("security.py.jinja").render(**context, schemes=schemes)
        protocol_imports = Imports()
        for tag in tags:
            for module, name in tag.imports:
                protocol_imports.add(module, name)
        files["protocols.py"] = env.get_template("protocols.py.jinja").render(
            **context,
            classes=[tag.protocol_class for tag in tags],
            imports=protocol_imports.lines(),
            mutable_defaults=any(tag.mutable_defaults for tag in tags),
            uses_models=any(tag.uses_models for tag in tags),
            webhooks=[docstring(webhook)[3:-3].strip() for webhook in api.webhooks],  # escaped lines
        )
        files["routers/__init__.py"] = env.get_template("routers_init.py.jinja").render(**context)
        for tag in tags:
            files[f"routers/{tag.module}.py"] = tag.router
        return files

    def tag_key(self, tag: Tag) -> str:
        """The key of a tag's share of the package (`tag_files`) in the memo: the tag, its
        operations and what every tag's share reads of the renderer (header, options, security
        schemes)."""
        parts = [
            self.header,
            compact_json(self.options),
            repr(self.api.security_schemes),
            repr((tag.name, tag.description, tag.module, tag.protocol)),
        ]
        known = self.api.operation_digests
        # An operation's repr, by digest: the IR's where it has it (one `routes` marked
        # dispatched since is not the one it took it of).
        operations = [(not op.dispatched and known.get(op.pointer)) or text_digest(repr(op)) for op in tag.operations]
        return text_digest("\0".join([*parts, *operations]))

    def tag_files(self, tag: Tag, models: Models, compiler: ValidatorCompiler) -> TagFiles:
        """A tag's router module, Protocol class and the facts the package's other modules take
        from them: the last run's when the tag is the same and every read of the models and
        checks it made (`_Reads`) gives what it gave then."""
        key = self.tag_key(tag)
        reads = _Reads(self, models, compiler, Imports())
        entry = self.tag_memo.peek(key)
        if isinstance(entry, list) and len(entry) == 2 and reads.replay(entry[0]):
            made = TagFiles.from_json(entry[1])
            if made is not None:
                self.tag_memo.get(key)  # used: kept for the next run
                return made
            reads = _Reads(self, models, compiler, Imports())
        env = environment()
        view = self.tag_view(tag, reads)
        protocol = self.protocol_view(tag, reads)
        self.router_view(view, reads)
        arguments = [a for op in protocol.operations for a in op.arguments]
        made = TagFiles(
            module=tag.module,
            protocol=tag.protocol,
            constants=[(op.constant, op.dispatched) for op in view.operations],
            router=env.get_template("router.py.jinja").render(header=self.header, tag=view),
            protocol_class=env.get_template("protocol.py.jinja").render(tag=protocol),
            imports=sorted((module, name) for module, names in reads.imports.names.items() for name in names),
            mutable_defaults=any((a.default or "").startswith(("[", "{")) for a in arguments),
            uses_models=any("models." in f"{a.annotation} {a.default}" for a in arguments)
            or any("models." in op.returns for op in protocol.operations),
        )
        if reads.log is not None:  # every read could be written down
            self.tag_memo.put(key, [reads.log, made.to_json()])
        return made

    def spec_file(self, workers: Workers | None = None) -> str:
        """`_spec.py`: the document the server serves and reads its operations from; as black
        formats it, given `workers`. Black leaves the document's string literals as they are
        (one a line, too long to join): the module is formatted with two stand-in lines, and
        the document goes in their place (its megabytes are not planned out each run)."""
        document = document_literal(self.api.document, self.api.document_texts)
        spliced = workers is not None and len(document) > 2 * _STAND_IN_WIDTH
        text = self._spec_text(_STAND_IN if spliced else document)
        if workers is None:
            return text
        text = format_files({"_spec.py": text}, workers, store=self.store)["_spec.py"]
        if not spliced:
            return text
        stand_in = indent(_STAND_IN, "    ") + "\n"
        if text.count(stand_in) == 1:
            return text.replace(stand_in, indent(document, "    ") + "\n")
        return format_files({"_spec.py": self._spec_text(document)}, workers, store=self.store)["_spec.py"]  # black moved them

    def _spec_text(self, document: str) -> str:
        """`_spec.py` with `document` (string literals, one a line) as the document."""
        api = self.api
        return str(
            environment()
            .get_template("spec.py.jinja")
            .render(
                header=self.header,
                api=api,
                options=self.options,
                generator_version=VERSION,
                runtime_interface=RUNTIME_INTERFACE,
                document="DOCUMENT: dict[str, Any] = json.loads(\n" + indent(document, "    ") + "\n)",
                fixes=statement(literal("(", [py(fix) for fix in api.fixes], magic=True), 0, "FIXES = ") if api.fixes else "",
            )
        )

    def models_head(self, models: Models) -> str:
        mutable = models.mutable_class_values
        return (
            self.header
            + (
                "\n# Pydantic copies each field's default for every instance: list defaults are not shared.\n"
                "# ruff: noqa: RUF012"
                if mutable
                else ""
            )
            + '\n"""Models of the spec\'s schemas (Pydantic v2, with exact JSON Schema checks)."""\n\n'
        )

    def models_tail(self, models: Models) -> str:
        classes = subtype_classes(self.api.model_schemas, models)
        text = environment().get_template("models_tail.py.jinja").render(
            header=self.header,
            adapters=ADAPTERS,
            subtypes=statement(call("runtime.bind_subtypes", "globals()", py(classes)), 0) if classes else "",
        )
        return str(text)

    # -- operations ---------------------------------------------------------------------------
    def tag_view(self, tag: Tag, reads: _Reads) -> TagView:
        constants = NameSet(separator="_")
        ops = [self.operation_view(op, reads, constants) for op in tag.operations]
        return TagView(
            name=tag.name,
            module=tag.module,
            protocol=tag.protocol,
            docstring=docstring(f"{tag.name}: {tag.description}" if tag.description else tag.name, 4),
            operations=ops,
        )

    def operation_view(self, op: Operation, reads: _Reads, constants: NameSet) -> OperationView:
        # A name without case (e.g. Japanese) would be its own constant.
        constant = constants.add(op.name.upper() if op.name.upper() != op.name else op.name + "_OPERATION")
        spec_source = self.operation_source(op, reads, constant)
        summary = op.summary or f"{op.method.upper()} {op.path}"
        route_doc = summary + (f"\n\n{op.description}" if op.description else "")
        return OperationView(
            name=op.name,
            operation_id=op.operation_id,
            method=op.method,
            route_path=op.route_path,
            constant=constant,
            summary=op.summary,
            deprecated=op.deprecated,
            arguments_class=reads.class_of(op.arguments_model),
            spec_source=spec_source,
            arguments=[],
            returns="",
            streams_only=False,
            route_docstring=docstring(route_doc, 4),
            protocol_docstring="",
            dispatched=op.dispatched,
            credentials=[
                CredentialView(key=c.key, scheme=c.scheme, dependency=self.scheme_keys[c.scheme]) for c in op.credentials
            ],
        )

    def operation_source(self, op: Operation, reads: _Reads, constant: str) -> str:
        """`CONSTANT = runtime.Operation(...)`, describing `op`."""
        checks = [reads.check(ptr) for ptr in _checked(op)]
        return statement(self.spec_source(op, reads.class_of(op.arguments_model), iter(checks)), 0, f"{constant} = ")

    def spec_source(self, op: Operation, arguments: str, checks: Iterator[str]) -> Expr:
        """The `runtime.Operation(...)` describing `op`, `arguments` naming the model of its
        arguments, `checks` the check functions of its responses (`_checked`)."""
        params = []
        for p in op.parameters:
            kwargs: list[tuple[str, Expr]] = [
                ("name", py(p.name)),
                ("location", py(p.location)),
                ("key", py(p.key)),
                ("schema", py(p.schema_pointer)),
            ]
            if not p.schema_pointer:  # a parameter the spec does not declare (--lenient)
                kwargs.append(("inline_schema", py(p.schema)))
            if p.required:
                kwargs.append(("required", "True"))
            kwargs.append(("style", py(p.style)))
            kwargs.append(("explode", repr(p.explode)))
            if p.content_type:
                kwargs.append(("content_type", py(p.content_type)))
            if p.allow_empty_value:
                kwargs.append(("allow_empty_value", "True"))
            if p.location == "path":
                route_name = next(k for k, v in op.path_variables.items() if v == p.name)
                if route_name != p.name:
                    kwargs.append(("route_name", py(route_name)))
            params.append(keywords("runtime.Param", kwargs))
        body: Expr = "None"
        if op.body is not None:
            body = keywords(
                "runtime.Body",
                [
                    ("key", py(op.body.key)),
                    ("required", repr(op.body.required)),
                    ("media_types", _strings(m.content_type for m in op.body.media_types)),
                    ("content", py(op.body.pointer + "/content")),
                ],
            )
        answers = []
        for r in op.responses:
            kwargs = [("status", py(r.status))]
            if r.media_types:
                kwargs.append(("media_types", _strings(m.content_type for m in r.media_types)))
                media = r.json_media or r.media_types[0]
                if media.schema is not None:
                    kwargs.append(("schema", py(media.schema_pointer)))
                if r.json_media is not None and r.json_media.schema is not None:
                    kwargs.append(("check", f"checks.{next(checks)}"))
                if media.example_pointer:
                    kwargs.append(("example", py(media.example_pointer)))
            if r.headers:
                headers = [
                    keywords(
                        "runtime.Header",
                        [("name", py(h.name)), ("required", repr(h.required)), ("schema", py(h.schema_pointer))],
                    )
                    for h in r.headers
                ]
                kwargs.append(("headers", literal("(", headers, magic=True)))
            answers.append(keywords("runtime.Answer", kwargs))
        parts: list[tuple[str, Expr]] = [
            ("operation_id", py(op.operation_id)),
            ("name", py(op.name)),
            ("method", py(op.method.upper())),
            ("path", py(op.path)),
            ("arguments", f"models.{arguments}"),
            ("parameters", literal("(", params, magic=True)),
            ("body", body),
            ("answers", literal("(", answers, magic=True)),
            ("validation_status", str(op.validation_status)),
            ("path_validation_status", str(op.path_validation_status)),
        ]
        if op.security:
            parts.append(("security", literal("(", [literal("(", [py(name) for name in option]) for option in op.security])))
        if op.dispatched:
            dispatch = [
                (field, literal("(", [literal("(", [py(d.location), py(d.name), py(d.value)]) for d in op.discriminators if d.required is required]))
                for field, required in (("parameters", True), ("hints", False))
                if any(d.required is required for d in op.discriminators)
            ]
            parts.append(("dispatch", keywords("runtime.Dispatch", dispatch)))
        return keywords("runtime.Operation", parts)

    def _arguments(self, op: Operation, reads: _Reads) -> list[ArgumentView]:
        fields = {(f.alias or f.name): f for f in reads.fields(reads.class_of(op.arguments_model))}
        result = []
        entries: list[tuple[str, bool]] = [(p.key, p.required) for p in op.parameters]
        if op.body is not None:
            entries.append((op.body.key, op.body.required))
        nullable = {p.key: "null" in reads.json_types(p.schema) for p in op.parameters}
        for key, _required in entries:
            f = fields.get(key)
            if f is None:
                continue
            members = _Annotations.union_members(f.annotation)
            missing = any(reads.origin(m) == "pydantic.MISSING" for m in members)
            members = [m for m in members if reads.origin(m) != "pydantic.MISSING"]
            default = f.default
            if key in nullable and not nullable[key] and "None" in members and default not in (None, "None"):
                members = [m for m in members if m != "None"]
            source = f"arguments.{f.name}"
            if missing:
                if "None" not in members:
                    members.append("None")
                default = "None"
                source = f"runtime.unset_to_none(arguments.{f.name})"
            annotation = reads.qualify(" | ".join(members))
            if default is not None:
                default = reads.qualify(default)
            result.append(ArgumentView(name=key, annotation=annotation, default=default, source=source))
        kinds = {s.name: s for s in self.api.security_schemes}
        for credential in op.credentials:
            annotation = _credential_type(kinds[credential.scheme], reads.imports)
            result.append(
                ArgumentView(
                    name=credential.key,
                    annotation=annotation if credential.required else f"{annotation} | None",
                    default=None if credential.required else "None",
                    source=f"credentials[{py(credential.scheme)}]",
                )
            )
        return result

    def _returns(self, op: Operation, reads: _Reads) -> tuple[str, bool]:
        success = [r for r in op.responses if r.is_success] or [r for r in op.responses if r.status == "default"]
        primary = success[0] if success else None
        if primary is None or not primary.media_types:
            base = "None"
            streams_only = False
        else:
            options: list[str] = []
            json_media = primary.json_media
            if json_media is not None:
                if primary.model:
                    options.append(f"models.{reads.class_of(primary.model)}")
                else:
                    options.append(reads.type_of(json_media.schema))
            for m in primary.media_types:
                if m.is_json:
                    continue
                if m.is_sse:
                    options.append(_stream_types(reads.imports))
                elif m.content_type.startswith("text/"):
                    options.append("str")
                else:
                    options.append("bytes")
            options = list(dict.fromkeys(options))
            base = " | ".join(options)
            streams_only = options == ["AsyncIterator[ServerSentEvent]"]
        if len(success) > 1 or (primary is not None and primary.headers and not streams_only):
            reads.imports.add("codegen.runtime", "Reply")
            base = f"{base} | Reply[Any]" if base != "None" else "Reply[Any] | None"
            reads.imports.add("typing", "Any")
            streams_only = False
        return base, streams_only

    def _type_of(self, schema: Any, models: Models, imports: Imports) -> str:
        """A Python type for a response schema that got no model of its own, as the Protocol
        writes it (`models.X` for the spec's types, so a schema named `Any` is not typing's)."""
        if not isinstance(schema, dict) or not schema:
            imports.add("typing", "Any")
            return "Any"
        ref = schema.get("$ref")
        target = schema_name(ref)
        if isinstance(ref, str) and ref.startswith("#") and target is None:
            # A schema elsewhere in the document (another response's, a parameter's).
            try:
                return self._type_of(resolve_ref(self.api.normalized, ref), models, imports)
            except (KeyError, ValueError):
                imports.add("typing", "Any")
                return "Any"
        if target is not None:
            name = models.by_pointer.get(component_pointer(target))
            if name is None and target in models.kinds:
                name = target
            if name is not None:
                return f"models.{name}"
            return self._type_of(self.api.model_schemas.get(target, {}), models, imports)
        types = schema.get("type")
        if isinstance(types, str):
            types = [types]
        if not isinstance(types, list):
            imports.add("typing", "Any")
            return "Any"
        out = []
        for t in types:
            if t == "array":
                out.append(f"list[{self._type_of(schema.get('items', {}), models, imports)}]")
            elif t == "object":
                imports.add("typing", "Any")
                out.append("dict[str, Any]")
            else:
                if t not in _TYPE_NAMES:
                    imports.add("typing", "Any")
                out.append(_TYPE_NAMES.get(t, "Any"))
        return " | ".join(dict.fromkeys(out))

    def protocol_view(self, tag: Tag, reads: _Reads) -> TagView:
        reads.imports.add("typing", "Protocol")
        reads.imports.add("codegen.runtime", "NotImplementedOperation")
        ops = []
        for op in tag.operations:
            arguments = self._arguments(op, reads)
            returns, streams_only = self._returns(op, reads)
            ops.append(
                OperationView(
                    name=op.name,
                    operation_id=op.operation_id,
                    method=op.method,
                    route_path=op.route_path,
                    constant="",
                    summary=op.summary,
                    deprecated=op.deprecated,
                    arguments_class=reads.class_of(op.arguments_model),
                    spec_source="",
                    arguments=arguments,
                    returns=returns,
                    streams_only=streams_only,
                    route_docstring="",
                    protocol_docstring=docstring(_protocol_doc(op, self.api.security_schemes), 8),
                    not_implemented=statement(call("NotImplementedOperation", py(op.operation_id)), 2, "raise "),
                    protocol_signature=_method_signature(op.name, streams_only, arguments, returns),
                )
            )
        return TagView(
            name=tag.name,
            module=tag.module,
            protocol=tag.protocol,
            docstring=docstring(_tag_doc(tag), 4),
            operations=ops,
        )

    def router_view(self, tag: TagView, reads: _Reads) -> TagView:
        api_tag = next(t for t in self.api.tags if t.module == tag.module)
        for view, op in zip(tag.operations, api_tag.operations, strict=True):
            view.arguments = self._arguments(op, reads)
            glue = [f"service: {tag.protocol}", f"arguments: models.{reads.class_of(op.arguments_model)}"]
            view.glue_signature = signature(
                f"def _{op.name}", [*glue, "credentials: dict[str, Any]"] if view.credentials else glue, "object"
            )
            view.glue_call = statement(
                Bracket(f"service.{op.name}", tuple((f"{a.name}=", a.source) for a in view.arguments), magic=True),
                1,
                "return ",
            )
            route = ["request: Request", *(f"{c.key}: Annotated[Any, Security(security.{c.dependency})]" for c in view.credentials)]
            view.route_signature = signature(f"async def {op.name}", route, "Response")
            handle: list[Expr] = ["request", view.constant, f"_{op.name}"]
            if view.credentials:
                handle.append(Bracket("", tuple((f"{py(c.scheme)}: ", c.key) for c in view.credentials), "{", literal=True))
            view.handle_call = statement(call("await runtime.handle", *handle), 1, "return ")
        return tag


@dataclass
class _Ahead:
    """The checks and routes' modules made from the last run's outline of the models."""

    outline: str  # the outline they were made from (`_outline`, as JSON)
    models: Models  # the models read from it
    compiler: ValidatorCompiler  # the checks' compiler as the checks left it (a fork)
    checks: dict[str, str]
    files: dict[str, str]


def _outline(models: Models) -> list[Any]:
    """What the checks and the routes read of the models (all but their text), as JSON."""
    return [
        [[name, kind] for name, kind in models.kinds.items()],
        [[name, ptr] for name, ptr in models.pointers.items()],
        [[ptr, name] for ptr, name in models.by_pointer.items()],
        [[name, [[f.name, f.annotation, f.default, f.alias] for f in fields]] for name, fields in models.fields.items()],
        [[name, [[value, member] for value, member in members.items()]] for name, members in models.enum_members.items()],
        [[name, list(target)] for name, target in models.imports.items()],
        models.mutable_class_values,
    ]


def _from_outline(text: str) -> Models | None:
    """Models without their text, from an `_outline`'s JSON (None for anything else)."""
    try:
        kinds, pointers, by_pointer, fields, members, imports, mutable = json.loads(text)
        return Models(
            source="",
            kinds=dict(kinds),
            pointers=dict(pointers),
            by_pointer=dict(by_pointer),
            fields={name: [Field(*f) for f in items] for name, items in fields},
            enum_members={name: dict(items) for name, items in members},
            imports={name: (module, imported) for name, (module, imported) in imports},
            mutable_class_values=bool(mutable),
        )
    except (TypeError, ValueError):
        return None


def _method_signature(name: str, streams_only: bool, arguments: list[ArgumentView], returns: str) -> str:
    """A Protocol method's header: keyword-only arguments, one a line."""
    head = f"{'def' if streams_only else 'async def'} {name}"
    if not arguments:
        return signature(head, ["self"], returns, 1)
    parameters = [f"{a.name}: {a.annotation}" + (f" = {a.default}" if a.default is not None else "") for a in arguments]
    return signature(head, ["self", "*", *parameters], returns, 1, magic=True)


def _credential_type(scheme: SecurityScheme, imports: Imports) -> str:
    """What an implementation receives for a scheme (what FastAPI's security class gives)."""
    if scheme.kind == "http":
        name = "HTTPBasicCredentials" if scheme.scheme.lower() == "basic" else "HTTPAuthorizationCredentials"
        imports.add("fastapi.security", name)
        return name
    return "str"


def _scheme_source(scheme: SecurityScheme) -> Bracket:
    """The FastAPI security dependency of a scheme."""
    extra: dict[str, Expr] = {"description": py(scheme.description)} if scheme.description else {}
    if scheme.kind == "apiKey":
        return call("runtime.security.api_key", py(scheme.name), name=py(scheme.parameter), location=py(scheme.location), **extra)
    if scheme.kind == "http":
        if scheme.bearer_format:
            extra = {"bearer_format": py(scheme.bearer_format), **extra}
        return call("runtime.security.http", py(scheme.name), scheme=py(scheme.scheme), **extra)
    if scheme.kind == "oauth2":
        return call("runtime.security.oauth2", py(scheme.name), flows=py(scheme.flows), **extra)
    return call("runtime.security.open_id_connect", py(scheme.name), url=py(scheme.url), **extra)


def _checked(op: Operation) -> list[str]:
    """The pointers of the schemas `op`'s answers are checked against, in order."""
    return [
        component_pointer(r.model) if r.model else r.json_media.schema_pointer
        for r in op.responses
        if r.media_types and r.json_media is not None and r.json_media.schema is not None
    ]


def _strings(values: Iterable[str]) -> Bracket:
    """A tuple of string literals."""
    return literal("(", [py(v) for v in values])


def _json_types(schema: Any, api: Api) -> set[str]:
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 32:
        schema = api.model_schemas.get(schema_name(schema["$ref"]) or "", {})
        seen += 1
    if not isinstance(schema, dict):
        return set()
    t = schema.get("type")
    if isinstance(t, str):
        return {t}
    if isinstance(t, list):
        return set(t)
    found: set[str] = set()
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            found |= _json_types(sub, api)
    if "enum" in schema and None in schema["enum"]:
        found.add("null")
    return found


def _tag_doc(tag: Tag) -> str:
    text = f"Operations of tag `{tag.name}`."
    if tag.description:
        text += f"\n\n{tag.description}"
    return text + (
        "\n\nImplement any of these methods on an object and pass it to `create_app`; "
        "operations it lacks answer 501."
    )


def _protocol_doc(op: Operation, schemes: tuple[SecurityScheme, ...] = ()) -> str:
    lines = [op.summary or f"{op.method.upper()} {op.path}"]
    if op.description:
        lines += ["", op.description]
    lines += ["", f"`{op.method.upper()} {op.path}` (operationId `{op.operation_id}`)."]
    answers = []
    for r in op.responses:
        note = f"- {r.status}: {r.description}" if r.description else f"- {r.status}"
        if not r.is_success and r.status != "default":
            note += f" (raise `ApiError({r.status if r.status.isdigit() else 400}, ...)`)"
        answers.append(note)
    if answers:
        lines += ["", "Responses:", *answers]
    if op.security:
        options = [" and ".join(f"`{name}`" for name in option) or "none" for option in op.security]
        if op.scopes:
            # OAuth2 and OpenID Connect ask for scopes; other schemes may name roles (OpenAPI 3.1).
            word = {s.name: "scopes" if s.kind in ("oauth2", "openIdConnect") else "roles" for s in schemes}
            options = [
                " and ".join(
                    f"`{name}`" + (f" with {word.get(name, 'scopes')} " + ", ".join(f"`{s}`" for s in scopes) if scopes else "")
                    for name, scopes in option
                )
                or "none"
                for option in op.scopes
            ]
        lines += ["", "Security (any one of): " + "; ".join(options) + "."]
        lines += [f"`{c.key}`: the `{c.scheme}` credential" + ("" if c.required else ", None when not sent") + "." for c in op.credentials]
    if op.callbacks:
        lines += ["", "Callbacks (requests your implementation makes; no code is generated for them):"]
        lines += [f"- {callback}" for callback in op.callbacks]
    return "\n".join(lines)


def render_implementation(api: Api) -> str:
    """A starting implementation module: one class per tag, every method answering 501."""
    from .format import format_source

    renderer = Renderer(api, "")
    models = render_models(api.model_schemas, api.title)
    reads = _Reads(renderer, models, None, Imports())
    tags = [renderer.protocol_view(tag, reads) for tag in api.tags]
    classes = NameSet({"Implementation", "ApiError", "create_app", "models", "app", "annotations"}, separator="")
    for view, tag in zip(tags, api.tags, strict=True):
        view.class_name = classes.add(tag.protocol[: -len("Api")] or tag.protocol)
        for op_view, op in zip(view.operations, tag.operations, strict=True):
            op_view.summary_docstring = docstring(
                f"{op.summary or op.operation_id}: `{op.method.upper()} {op.path}`.", 8
            )
    text = environment().get_template("implementation.py.jinja").render(api=api, tags=tags, imports=reads.imports.lines())
    return format_source(text)


def render(
    api: Api,
    *,
    spec_label: str,
    options: dict[str, Any] | None = None,
    stage: Any = _no_stage,
    jobs: int | None = None,
    workers: Workers | None = None,
    store: Store | None = None,
    compile_files: bool = True,
) -> dict[str, str]:
    """Every file of the package (relative path -> text), black-formatted unless the options
    say `formatter = "none"`, each compiled unless `compile_files` is False
    (`verify.GeneratedCodeError` when one does not).
    `jobs` worker processes (default: one per core; 1 renders in this process), or the given
    `workers`, give the same files."""
    options = {"formatter": "black", "mock": False, "validate_responses": True, **(options or {})}
    if workers is not None:
        return Renderer(api, spec_label, options, stage, store).render(workers, compile_files=compile_files)
    with Workers(jobs) as own:
        return Renderer(api, spec_label, options, stage, store).render(own, compile_files=compile_files)


def _no_compile(files: dict[str, str], workers: Workers, store: Store | None = None) -> list[verify.Job]:
    return []


__all__ = ["make_pointer", "render", "templates_dir"]
