"""Incremental regeneration: whatever the cache holds, a run gives the bytes of a run from an
empty cache.

Each case warms the cache with a spec, edits the spec one way (a description, a property, a
rename, a `$ref` retargeted, an operation added or removed, a schema deleted), regenerates from
that cache and compares with a cold run of the edited spec. The specs: the LangSmith spec, a
spec built here to put the model parts to work (a connected group larger than a part, cycles,
inheritance across parts, enums that datamodel-code-generator shares by name, class names two
parts would both take), and a smaller cut of the benchmark's large spec.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from codegen import load
from codegen.cache import Memo, Store
from codegen.cli import build_files, main
from codegen.config import Config
from codegen.errors import SpecError, SpecErrors
from codegen.render import parts
from codegen.render.validators import ValidatorCompiler, unit_owner
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

Spec = dict[str, Any]


def project(folder: Path, spec: Spec) -> Config:
    (folder / "spec").mkdir(parents=True, exist_ok=True)
    (folder / "spec" / "openapi.json").write_text(json.dumps(spec))
    return Config(root=folder, spec=folder / "spec" / "openapi.json", out=folder / "generated", package="pkg")


def cold(tmp: Path, spec: Spec) -> dict[str, str]:
    return build_files(project(tmp / "cold", spec), use_cache=False, jobs=1)[1]


def refs(node: Any, old: str, new: str | None) -> Any:
    """`node` with `$ref`s to schema `old` pointing at `new` (None: an object schema instead)."""
    if isinstance(node, list):
        return [refs(n, old, new) for n in node]
    if not isinstance(node, dict):
        return node
    if node.get("$ref") == f"#/components/schemas/{old}":
        return {"type": "object"} if new is None else {**node, "$ref": f"#/components/schemas/{new}"}
    return {k: refs(v, old, new) for k, v in node.items()}


def schemas(spec: Spec) -> dict[str, Any]:
    return spec["components"]["schemas"]  # type: ignore[no-any-return]


def describe(name: str) -> Callable[[Spec], Spec]:
    def edit(spec: Spec) -> Spec:
        schemas(spec)[name]["description"] = "Edited: a new description."
        return spec

    return edit


def add_property(name: str) -> Callable[[Spec], Spec]:
    def edit(spec: Spec) -> Spec:
        schemas(spec)[name].setdefault("properties", {})["addedByTest"] = {"type": "integer", "minimum": 3}
        return spec

    return edit


def rename(old: str, new: str) -> Callable[[Spec], Spec]:
    def edit(spec: Spec) -> Spec:
        spec = refs(spec, old, new)
        schemas(spec)[new] = schemas(spec).pop(old)
        return spec

    return edit


def retarget(holder: str, prop: str, target: str) -> Callable[[Spec], Spec]:
    def edit(spec: Spec) -> Spec:
        schemas(spec)[holder]["properties"][prop] = {"$ref": f"#/components/schemas/{target}"}
        return spec

    return edit


def delete(name: str) -> Callable[[Spec], Spec]:
    def edit(spec: Spec) -> Spec:
        del schemas(spec)[name]
        return refs(spec, name, None)  # type: ignore[no-any-return]

    return edit


def add_operation(spec: Spec) -> Spec:
    first = min(schemas(spec))
    spec["paths"]["/added-by-test/{item_id}"] = {
        "post": {
            "operationId": "added_by_test",
            "parameters": [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 9}}],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"note": {"type": "string"}}}}}},
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{first}"}}}}},
        }
    }
    return spec


def remove_operation(spec: Spec) -> Spec:
    path = sorted(spec["paths"])[len(spec["paths"]) // 2]
    methods = [m for m in spec["paths"][path] if m in ("get", "put", "post", "delete", "patch")]
    del spec["paths"][path][methods[0]]
    if not any(m in spec["paths"][path] for m in ("get", "put", "post", "delete", "patch", "head", "options", "trace")):
        del spec["paths"][path]
    return spec


def assert_incremental(tmp: Path, spec: Spec, edits: dict[str, Callable[[Spec], Spec]], jobs: int = 1) -> None:
    """Each edit in turn, from the cache the runs before it left (warmed first with `spec`),
    gives the files of a cold run of the edited spec."""
    config = project(tmp / "warm", spec)
    build_files(config, jobs=jobs)
    for label, edit in edits.items():
        spec = edit(spec)
        config.spec.write_text(json.dumps(spec))
        assert build_files(config, jobs=jobs)[1] == cold(tmp / label.replace(" ", "-"), spec), label


@pytest.fixture
def ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks and routes are made ahead from the last run's outline on every run."""
    from codegen.render import renderer

    monkeypatch.setattr(renderer, "MAKE_AHEAD", True)


def langsmith() -> Spec:
    return yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())  # type: ignore[no-any-return]


# Each kind of edit once across the three specs (the chain of edits on one spec costs a cold run
# of the spec each; CI's time is counted).
LANGSMITH_EDITS = {
    "property on a referenced schema": add_property("Config"),
    "schema renamed": rename("CronPatch", "CronChange"),
    "schema deleted": delete("ThreadPruneResponse"),
    "operation added": add_operation,
}


def test_langsmith_edits_regenerate_as_a_cold_run(tmp_path: Path, ahead: None) -> None:
    # With the checks and routes made ahead from the last run's outline of the models on every
    # run, as the command does on a large spec (the entangled spec's edits go without).
    assert_incremental(tmp_path, langsmith(), LANGSMITH_EDITS)


def entangled(size: int = 72) -> Spec:
    """Schemas that put the parts to work: `Node0..` one connected group larger than a part
    (a chain, with cycles and inheritance), enums declared alike in many schemas (which
    datamodel-code-generator names by their title and shares), and schemas whose nested classes
    would take the name of another schema's class."""
    node_schemas: dict[str, Any] = {}
    for i in range(size):
        props: dict[str, Any] = {
            "label": {"type": "string", "title": "Mode", "enum": ["on", "off"], "default": "on"},
            "nested": {"type": "object", "properties": {"depth": {"type": "integer"}}},
        }
        if i:
            props["previous"] = {"$ref": f"#/components/schemas/Node{i - 1}"}
        if i % 10 == 9:
            # A cycle of ten.
            props["back"] = {"anyOf": [{"$ref": f"#/components/schemas/Node{i - 9}"}, {"type": "null"}]}
        schema: dict[str, Any] = {"type": "object", "properties": props, "required": ["label"]}
        if i % 7 == 3:
            schema = {"allOf": [{"$ref": f"#/components/schemas/Node{i - 1}"}, schema]}
        node_schemas[f"Node{i}"] = schema
    lonely = {
        # `Item` and `Box` each alone, but `BoxItem` is the name of Box's nested class too.
        "Item": {"type": "object", "properties": {"mode": {"type": "string", "title": "Mode", "enum": ["a", "b"]}}},
        "BoxItem": {"type": "object", "properties": {"size": {"type": "integer"}}},
        "Box": {"type": "object", "properties": {"item": {"type": "object", "properties": {"weight": {"type": "number"}}}}},
        "pet.v1": {"type": "object", "properties": {"name": {"type": "string"}}},
        "Tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}}},
    }
    paths = {
        f"/nodes/{i}": {
            "get": {
                "operationId": f"get_node_{i}",
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/Node{i}"}}}}},
            }
        }
        for i in range(0, size, 15)
    }
    paths["/box"] = {
        "put": {
            "operationId": "put_box",
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Box"}}}},
            "responses": {"204": {"description": "stored"}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Entangled", "version": "1"},
        "paths": paths,
        "components": {"schemas": {**node_schemas, **lonely}},
    }


ENTANGLED_EDITS = {
    "shared enum made different": lambda spec: (schemas(spec)["Node50"]["properties"]["label"].__setitem__("enum", ["on", "off", "auto"]), spec)[1],
    "schema renamed to a taken class name": rename("Item", "BoxItem2"),
    "ref retargeted across the chain": retarget("Node67", "previous", "Node2"),
    "cycle broken": delete("Node9"),
    "operation removed": remove_operation,
}


def test_entangled_edits_regenerate_as_a_cold_run(tmp_path: Path) -> None:
    # In one process: that worker processes give the same files is tests/test_reproducible.py's.
    assert_incremental(tmp_path, entangled(), ENTANGLED_EDITS)


def test_entangled_spec_is_generated_in_parts_that_read_other_parts_schemas() -> None:
    from codegen.render.models import models_document

    spec = entangled()
    views = models_document(spec["components"]["schemas"], "t")["components"]["schemas"]
    edges = parts.references(views)
    planned = parts.plan(list(views), edges)
    assert len(planned) > 3
    assert any(parts.closure(p, edges) for p in planned)


def test_entangled_package_imports_and_validates(tmp_path: Path) -> None:
    """Written part by part, the models still import (bases and defaults come before their
    use) and validate."""
    files = cold(tmp_path, entangled())
    package = tmp_path / "pkgroot" / "pkg"
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    sys.path.insert(0, str(package.parent))
    try:
        import importlib

        models = importlib.import_module("pkg.models")
        assert models.Node12.model_validate({"label": "off", "previous": {"label": "on"}}).label.value == "off"
        assert models.Tree.model_validate({"children": [{"children": []}]}).children[0].children == []
    finally:
        sys.path.remove(str(package.parent))
        for name in [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]:
            del sys.modules[name]


def large(copies: int = 2) -> Spec:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import make_large_spec
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return make_large_spec.build(copies)  # type: ignore[no-any-return]


def test_large_spec_edits_regenerate_as_a_cold_run(tmp_path: Path, ahead: None) -> None:
    """Two of the bench's edits on a cut of its large spec (`make bench` compares all three on
    the whole large spec the same way)."""
    spec = large()
    widest = max(schemas(spec), key=lambda n: json.dumps(spec).count(f'"#/components/schemas/{n}"'))
    edits = {"description": describe(min(schemas(spec))), "widest": add_property(widest)}
    assert_incremental(tmp_path, spec, edits)


def boxes() -> Spec:
    """Two tags: `boxes` reads the class of a schema (its request body) and the number of an
    inline schema's check (its answer); `other` reads neither."""
    answer = {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "string", "maxLength": 3}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Boxes", "version": "1"},
        "paths": {
            "/box": {
                "put": {
                    "operationId": "put_box",
                    "tags": ["boxes"],
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Box"}}}},
                    "responses": answer,
                }
            },
            "/other": {"get": {"operationId": "get_other", "tags": ["other"], "responses": {"204": {"description": "none"}}}},
        },
        "components": {"schemas": {"Box": {"type": "object", "properties": {"size": {"type": "integer"}}}}},
    }


def first_schemas(**added: Any) -> Callable[[Spec], Spec]:
    """An edit adding schemas before the others (models and checks are named in order)."""

    def edit(spec: Spec) -> Spec:
        spec["components"]["schemas"] = {**added, **spec["components"]["schemas"]}
        return spec

    return edit


# Edits that leave every operation as it was, but change what the routes and Protocol methods
# of the `boxes` tag read: its files are kept in a memo by the tag, with those reads.
BOXES_EDITS = {
    # datamodel-code-generator names the schema `box` first: `Box` becomes `Box1`.
    "models.Box1": first_schemas(box={"type": "string"}),
    # A nested schema's check, made first, takes `_check_1`: the answer's becomes `_check_2`.
    "checks._check_2": first_schemas(
        Aaa={"type": "object", "properties": {"x": {"type": "object", "properties": {"y": {"type": "integer", "maximum": 3}}}}},
        Bbb={"type": "object", "properties": {"z": {"$ref": "#/components/schemas/Aaa/properties/x"}}},
    ),
}


def test_a_tag_from_the_memo_reads_the_names_it_read_then(tmp_path: Path) -> None:
    """A tag whose operations are unchanged is taken from the memo only when every name its
    views read (a model's class, a check function) is the same: each edit here renames one,
    and the tag's files must say the new name, as a cold run's do."""
    for name, before, after in edits_in_turn(tmp_path, boxes(), BOXES_EDITS):
        assert name not in before["routers/boxes.py"] + before["protocols.py"]
        assert name in after["routers/boxes.py"] + after["protocols.py"]
        assert after["routers/other.py"] == before["routers/other.py"]


def edits_in_turn(tmp: Path, spec: Spec, edits: dict[str, Callable[[Spec], Spec]]) -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
    """Each edit in turn from the cache the runs before it left: (label, files before, files
    after), the files after each being a cold run's of the edited spec."""
    config = project(tmp / "warm", spec)
    before = build_files(config, jobs=1)[1]
    for label, edit in edits.items():
        spec = edit(spec)
        config.spec.write_text(json.dumps(spec))
        after = build_files(config, jobs=1)[1]
        assert after == cold(tmp / label.replace(" ", "-").replace("'", ""), spec), label
        yield label, before, after
        before = after


def _check_spec(extra: dict[str, Any] | None = None, pattern: str = "^[a-z]+$", **name: Any) -> dict[str, Any]:
    """Schemas whose checks use constants (enums, patterns, property sets) and functions of
    their own (a deep inline schema, a $ref to a nested schema), numbered in order of use."""
    deep: dict[str, Any] = {"type": "integer", "minimum": 1}
    for _ in range(14):  # deeper than a function's blocks may nest
        deep = {"type": "object", "properties": {"x": deep}}
    return {
        "components": {
            "schemas": {
                **(extra or {}),
                "Colour": {"type": "string", "enum": ["red", "green"]},
                "Name": {"type": "string", "pattern": pattern, **name},
                "Deep": deep,
                "Pair": {
                    "type": "object",
                    "required": ["left"],
                    "properties": {"left": {"$ref": "#/components/schemas/Name"}, "inner": {"enum": [1, 2, 3]}},
                    "additionalProperties": False,
                },
                "Uses": {"type": "array", "items": {"$ref": "#/components/schemas/Pair/properties/inner"}},
            }
        }
    }


def _checks_module(document: dict[str, Any], memo: Memo | None) -> str:
    compiler = ValidatorCompiler(document, {f"/components/schemas/{n}" for n in schemas(document)}, memo)
    for name in schemas(document):
        compiler.function_for(f"/components/schemas/{name}")
    return "\n".join(compiler.functions_source())


@pytest.mark.parametrize(
    "edited",
    [
        _check_spec(),  # unchanged: every function from the memo
        _check_spec({"First": {"type": "string", "enum": ["a", "b"], "pattern": "^x"}}),  # every number moves
        _check_spec(pattern="^[A-Z]+$"),  # one constant's value changes
        _check_spec({"Alias": {"$ref": "#/components/schemas/Deep"}}),  # a name that only refers
        _check_spec(readOnly=True),  # read through Pair's $ref: `left` is required in responses only
    ],
)
def test_check_functions_from_the_memo_are_those_compiled_afresh(tmp_path: Path, edited: dict[str, Any]) -> None:
    store = Store(tmp_path / "store")
    warm = Memo(store, "checks", unit_owner)
    _checks_module(_check_spec(), warm)
    warm.save()
    memo = Memo(store, "checks", unit_owner)
    assert _checks_module(edited, memo) == _checks_module(edited, None)
    assert memo.reused > 0  # the memo was read, not passed over


def _verdict(path: Path, memo: Memo | None) -> list[str]:
    try:
        load.load(path, memo=memo)
    except (SpecError, SpecErrors) as exc:
        errors = exc.errors if isinstance(exc, SpecErrors) else [exc]
        return [f"{e.pointer} {e.line}:{e.column} {e.message}" for e in errors]
    return []


def _break(spec: Spec, how: str) -> Spec:
    spec = json.loads(json.dumps(spec))
    items, named = spec["paths"], schemas(spec)
    first_path, first_schema = next(iter(items)), next(iter(named))
    if how == "edited path item":
        next(iter(items[first_path].values()))["responses"] = "none"
    elif how == "edited schema":
        named[first_schema]["pattern"] = "([a-z"
    elif how == "referred schema deleted":  # the path items that refer to it are unchanged
        text = json.dumps(items)
        target = min((n for n in named if f'"#/components/schemas/{n}"' in text), key=lambda n: text.count(f'"#/components/schemas/{n}"'))
        del named[target]
    elif how == "an error elsewhere":
        spec["info"] = {"title": 3}
    return spec


@pytest.mark.parametrize("how", ["unchanged", "edited path item", "edited schema", "referred schema deleted", "an error elsewhere"])
def test_a_spec_checked_from_the_memo_gets_the_verdict_of_a_full_check(tmp_path: Path, how: str) -> None:
    """Path items and schemas an earlier run found sound are not checked again: the errors
    (or none) are those of a run without the memo, wherever the edit broke the spec."""
    spec = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(spec))
    store = Store(tmp_path / "store")
    warm = Memo(store, "load", load.vetting_shard)
    assert _verdict(path, warm) == []
    warm.save()
    path.write_text(json.dumps(_break(spec, how)))
    memo = Memo(store, "load", load.vetting_shard)
    full = _verdict(path, None)
    assert _verdict(path, memo) == full
    assert memo.reused > 0  # the memo was read, not passed over
    assert (full == []) == (how == "unchanged")


def test_a_spec_of_several_files_is_bundled_on_every_run(tmp_path: Path) -> None:
    """A path item that names another file is never taken as vetted: the next run bundles it
    again (it once read the document unbundled)."""
    import shutil

    shutil.copytree(ROOT / "tests" / "specs" / "external-refs", tmp_path / "spec")
    config = Config(root=tmp_path, spec=tmp_path / "spec" / "openapi.yaml", out=tmp_path / "generated", package="pkg")
    first = build_files(config, jobs=1)[1]
    (tmp_path / "spec" / "openapi.yaml").write_text((tmp_path / "spec" / "openapi.yaml").read_text() + "\n# edited\n")
    assert build_files(config, jobs=1)[1] == first == build_files(config, use_cache=False, jobs=1)[1]


@pytest.mark.parametrize("spec", [ROOT / "spec" / "openapi.yaml", *sorted((ROOT / "tests" / "specs").glob("*/openapi.yaml"))], ids=lambda p: p.parent.name)
def test_path_items_and_schemas_normalized_alone_make_the_normalized_document(tmp_path: Path, spec: Path) -> None:
    """The IR reads normalized path items and schemas back from the memo: each normalized by
    itself, the document is the one normalized whole (same values, same order)."""
    from codegen import ir
    from codegen.runtime.dialect import normalize_document

    store = Store(tmp_path)
    try:
        document = load.load(spec, memo=Memo(store, "load", load.vetting_shard), lenient=spec.parent.name == "lenient")
    except (SpecError, SpecErrors):
        pytest.skip("a fixture of a broken spec")
    whole = json.dumps(normalize_document(document.data, document.version, document.fixes))
    for _ in range(2):  # normalized here, then read back
        memo = Memo(store, "normalized", ir.normalized_shard, raw=True)
        assert json.dumps(ir._normalized(document, memo)[0]) == whole
        memo.save()


def test_a_corrupt_or_foreign_piece_is_ignored(tmp_path: Path) -> None:
    config = project(tmp_path / "p", entangled())
    reference = build_files(config, jobs=1)[1]
    pieces = sorted((config.root / ".codegen-cache").glob("models-*/*.piece"))
    assert len(pieces) > 2
    pieces[0].write_bytes(pieces[0].read_bytes()[:-1] + b"!")  # corrupt
    pieces[1].write_bytes(pieces[2].read_bytes())  # foreign: another key's entry under this name
    head, _, body = pieces[2].read_bytes().partition(b"\n")
    header, _, body = body.partition(b"\n")
    value = marshal.loads(body)
    value["blocks"] = [["Node0", "class Node0(Evil):\n    pass\n"]]  # not what was stored under this key
    pieces[2].write_bytes(head + b"\n" + header + b"\n" + marshal.dumps(value))
    for package in (config.root / ".codegen-cache").glob("*.json.gz"):
        package.unlink()  # the whole-package entry too: the pieces must be read
    assert build_files(config, jobs=1)[1] == reference
    store = Store(config.root / ".codegen-cache")
    assert all(store.get(p.stem) is not None for p in pieces[:3])  # rewritten


def test_a_piece_reads_back_only_whole_and_from_the_python_that_wrote_it(tmp_path: Path) -> None:
    """Pieces are stored as `marshal` bytes (read back several times faster than JSON):
    what reads back is what JSON would give, and a piece spoiled, foreign, or written by
    another Python (whose marshal format may differ) is ignored and removed."""
    store = Store(tmp_path)
    key, other = Store.key("t", 1), Store.key("t", 2)
    value = {"a": [1, 2.5, "é\ud800", None, {"b": True}], "t": (1, 2)}
    store.put(key, value)
    store.put(other, [1])
    assert store.get(key) == json.loads(json.dumps(value)) == {"a": [1, 2.5, "é\ud800", None, {"b": True}], "t": [1, 2]}
    path, data = store._path(key), store._path(key).read_bytes()
    spoiled = [
        data[:-3] + bytes([data[-3] ^ 1]) + data[-2:],  # a byte of the value changed
        data.replace(b'"python": "', b'"python": "cpython-299-'),  # another Python wrote it
        store._path(other).read_bytes(),  # another key's piece under this name
        data[: len(data) // 2],  # cut short
    ]
    for bad in spoiled:
        path.write_bytes(bad)
        assert store.get(key) is None
        assert not path.exists()


def test_a_whole_package_is_served_only_with_all_its_files(tmp_path: Path) -> None:
    """A whole package in the cache names its files' texts in the store: an unchanged spec is
    served from them (a second package that differs in one file adds one text), and one whose
    text was dropped or spoiled since is generated again, the same."""
    spec = boxes()
    config = project(tmp_path / "p", spec)
    reference = build_files(config, jobs=1)[1]
    folder = config.root / ".codegen-cache"
    texts = sorted(folder.glob("file-*/*.piece"))
    assert len(texts) == len(set(reference.values()))
    spec["info"]["description"] = "Only _spec.py and __init__.py say this."
    config.spec.write_text(json.dumps(spec))
    edited = build_files(config, jobs=1)[1]
    changed = {name for name in reference if edited[name] != reference[name]}
    assert len(sorted(folder.glob("file-*/*.piece"))) == len(texts) + len({edited[n] for n in changed})
    config.spec.write_text(json.dumps(boxes()))
    texts[0].unlink()  # dropped by the store's limit, say
    spoiled = next(p for p in sorted(folder.glob("file-*/*.piece")) if p not in texts[:1])
    spoiled.write_bytes(b"not gzip")
    assert build_files(config, jobs=1)[1] == reference


def test_the_store_keeps_under_its_limit_dropping_the_least_recently_used(tmp_path: Path) -> None:
    store = Store(tmp_path, limit=4000)
    keys = [Store.key("t", i) for i in range(10)]
    for i, key in enumerate(keys):
        store.put(key, {"i": i, "pad": [hashlib.sha256(f"{i}.{j}".encode()).hexdigest() for j in range(20)]})
    assert store.get(keys[0]) is not None  # used now: kept
    kept, size = store.drop_oldest()
    assert size <= 4000 and 0 < kept < 10
    assert store.get(keys[0]) is not None
    assert store.get(keys[1]) is None


def test_the_store_prunes_to_three_quarters_of_its_limit_then_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past its limit, the store drops the least recently used pieces down to three quarters of
    it; the runs after only add what they wrote to a tally, listing the pieces (thousands, on a
    large spec) only when the tally passes the limit again."""
    store = Store(tmp_path, limit=40_000)
    pad = [hashlib.sha256(str(j).encode()).hexdigest() for j in range(30)]
    for i in range(30):
        store.put(Store.key("t", i), {"i": i, "pad": pad})
    listed = []
    entries = Store.entries
    monkeypatch.setattr(Store, "entries", lambda self: listed.append(1) or entries(self))
    store.prune()
    assert len(listed) == 1
    assert 30_000 - 2_000 < store.size()[1] <= 30_000
    listed.clear()
    runs = 0
    while not listed:
        runs += 1
        store = Store(tmp_path, limit=40_000)
        store.put(Store.key("t", 100 + runs), {"i": runs, "pad": pad})
        store.prune()
    assert runs > 3 and store.size()[1] <= 30_000


def test_verbose_reports_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    config = project(tmp_path, entangled(20))
    (tmp_path / "pyproject.toml").write_text('[tool.codegen]\nspec = "spec/openapi.json"\nout = "generated"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "--verbose"]) == 0
    spec = entangled(20)
    describe("Node3")(spec)
    config.spec.write_text(json.dumps(spec))
    assert main(["generate", "--verbose"]) == 0
    err = capsys.readouterr().err
    assert "pieces reused" in err and " MB" in err
    reused = [line for line in err.splitlines() if "pieces reused" in line][-1]
    assert not reused.strip().startswith("cache    0 pieces reused"), reused


def patched(old: list[str], diff: list[str]) -> list[str]:
    """`old` with a unified diff applied."""
    import re

    out: list[str] = []
    at, i = 0, 2  # lines of `old` used; the diff's line after its two headers
    while i < len(diff):
        match = re.match(r"@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@", diff[i])
        assert match, diff[i]
        start, count = int(match.group(1)), int(match.group(2) or 1)
        begin = start - 1 if count else start
        out += old[at:begin]
        at, used, i = begin, 0, i + 1
        while i < len(diff) and not diff[i].startswith("@@"):
            if diff[i][0] in " +":
                out.append(diff[i][1:])
            used += diff[i][0] in " -"
            i += 1
        assert used == count
        at += count
    return out + old[at:]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(st.sampled_from(["a\n", "b\n", "c\n", "\n"]), max_size=40),
    st.lists(st.sampled_from(["a\n", "b\n", "c\n", "\n", "e\n"]), max_size=40),
    st.integers(0, 30),
)
def test_check_diffs_as_difflib_does(old: list[str], new: list[str], shared: int) -> None:
    """`codegen check`'s diff leaves out the lines both sides share at their ends before
    comparing (an edit of a large module took difflib seconds): a diff that takes the old file
    to the new one, its hunks numbered in the whole files. (Not always difflib's lines: matching
    the longest common run first, difflib lines up the whole files and their middles apart,
    either way the shorter.)"""
    import difflib

    from codegen.write import unified_diff

    common_head = [f"h{i}\n" for i in range(shared)]
    common_tail = [f"t{i}\n" for i in range(shared // 2)]
    a, b = common_head + old + common_tail, common_head + new + common_tail
    ours, theirs = unified_diff(a, b, "a", "b"), list(difflib.unified_diff(a, b, "a", "b"))
    assert (ours == []) == (theirs == [])
    if ours:
        assert patched(a, ours) == b
        assert patched(a, theirs) == b  # the applier itself, on difflib's own diff


@pytest.mark.parametrize("spec", [ROOT / "spec" / "openapi.yaml", *sorted((ROOT / "tests" / "specs").glob("*/openapi.yaml"))], ids=lambda p: p.parent.name)
def test_a_json_spec_walked_for_its_texts_reads_as_json_loads_reads_it(spec: Path) -> None:
    """The vetting memo keys a JSON spec's path items and schemas by their text as written,
    cut out while parsing: the document is json.loads's, and each text parses to its value."""
    from codegen.errors import unescape_token

    document = yaml.safe_load(spec.read_text())
    for text in (json.dumps(document), json.dumps(document, indent=2), json.dumps(document, separators=(",", ":"), ensure_ascii=False)):
        texts: dict[str, str] = {}
        assert load._json_with_texts(text, texts) == json.loads(text)
        for place, written in texts.items():
            *parents, name = [unescape_token(t) for t in place.split("/")[1:]]
            assert json.loads(written) == load.member(document["components"] if parents == ["components", "schemas"] else document, parents[-1])[name]
        expected = {f"/paths/{n.replace('~', '~0').replace('/', '~1')}" for n, v in (document.get("paths") or {}).items()}
        assert {p for p in texts if p.startswith("/paths/")} == expected


@pytest.mark.parametrize(
    "text",
    ['{"a":1', '{"paths":{"/a":{}},"paths":{}}', "[1]", '{"a":1} x', '{"a":1,}', '{"paths":{"/a":{},"/a":{"get":{}}}}', " ", '{"paths":{"/a":nul}}', '\n{ "paths" : { "/x" : {"get": 1} } }\n'],
)
def test_a_json_spec_walked_for_its_texts_fails_or_reads_as_json_loads(text: str) -> None:
    texts: dict[str, str] = {}
    try:
        expected: Any = json.loads(text)
    except ValueError as exc:
        with pytest.raises(type(exc), match=__import__("re").escape(str(exc))):
            load._json_with_texts(text, texts)
        return
    assert load._json_with_texts(text, texts) == expected
    assert all(json.loads(t) == expected["paths"][p.split("/", 2)[2].replace("~1", "/")] for p, t in texts.items())


def test_a_view_from_the_memo_holds_only_while_what_it_read_holds(tmp_path: Path) -> None:
    """A model's view (what datamodel-code-generator reads) is taken from the memo by its
    schema's digest and the digests of the schemas it read: here `Order` requires `id`, which
    is a `$ref` to `Id`, and whether `id` stays required in the model depends on `Id` being
    readOnly. Editing only `Id` must change `Order`'s model as a cold run does."""
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "Orders", "version": "1"},
        "paths": {},
        "components": {
            "schemas": {
                "Order": {"type": "object", "required": ["id", "qty"], "properties": {"id": {"$ref": "#/components/schemas/Id"}, "qty": {"type": "integer"}}},
                "Id": {"type": "string", "readOnly": True},
            }
        },
    }
    config = project(tmp_path / "warm", spec)
    first = build_files(config, jobs=1)[1]
    assert first == cold(tmp_path / "first", spec)
    for read_only in (False, True, False):
        spec["components"]["schemas"]["Id"]["readOnly"] = read_only
        config.spec.write_text(json.dumps(spec))
        after = build_files(config, jobs=1)[1]
        assert after == cold(tmp_path / f"cold-{read_only}", spec)
        assert ("id: Id | MISSING = MISSING" in after["models.py"]) == read_only
    # The view's digest itself (which keys the part of the models holding it) is the fresh one.
    from codegen.cache import json_digest
    from codegen.render.models import _Views

    store = Store(tmp_path / "store")
    schemas = {**spec["components"]["schemas"], "Other": {"type": "integer"}}
    for read_only in (True, False):
        schemas["Id"]["readOnly"] = read_only
        known = {name: json_digest(schema) for name, schema in schemas.items()}
        memo = Memo(store, "views")
        views = _Views(schemas, {}, known, memo)
        fresh = _Views(schemas, {}, known, None)
        assert views.digests == fresh.digests and views.edges() == fresh.edges() == {"Order": ["Id"], "Id": [], "Other": []}
        memo.save()
    assert memo.reused == 1  # `Other`'s; `Order`'s view read `Id`, which changed


def widgets() -> Spec:
    """Operations that read beyond their path items: a parameter and a request body by `$ref`
    into components, and method and model names another operation or schema could take."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Widgets", "version": "1"},
        "paths": {
            "/widgets/{id}": {
                "get": {
                    "operationId": "getWidget",
                    "parameters": [{"$ref": "#/components/parameters/WidgetId"}, {"name": "fields", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}}}},
                },
                "put": {
                    "operationId": "putWidget",
                    "parameters": [{"$ref": "#/components/parameters/WidgetId"}],
                    "requestBody": {"$ref": "#/components/requestBodies/Widget"},
                    "responses": {"204": {"description": "Saved"}},
                },
            },
            "/gadgets": {"get": {"operationId": "get_widget_", "responses": {"204": {"description": "none"}}}},
        },
        "components": {
            "parameters": {"WidgetId": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}},
            "requestBodies": {"Widget": {"content": {"application/json": {"schema": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}},
            "schemas": {"Thing": {"type": "string"}},
        },
    }


def edited(change: Callable[[Spec], None]) -> Callable[[Spec], Spec]:
    def edit(spec: Spec) -> Spec:
        change(spec)
        return spec

    return edit


# Edits that leave the path items of `/widgets/{id}` as they were: their operations change all
# the same, through what they read or the names they take.
WIDGET_EDITS = {
    "a parameter they $ref": edited(lambda s: s["components"]["parameters"]["WidgetId"].update(schema={"type": "string"}, description="The widget.")),
    "a request body they $ref": edited(lambda s: s["components"]["requestBodies"]["Widget"].update(required=True)),
    "a schema taking their model's name": edited(lambda s: s["components"]["schemas"].update(GetWidgetResponse={"type": "integer"})),
    # `/gadgets`'s `get_widget_` was named `get_widget_2` (after `getWidget`); it is now `..._3`.
    "an operation taking a method's name": edited(
        lambda s: s["paths"].update({"/early": {"get": {"operationId": "get_widget_2", "responses": {"204": {"description": "none"}}}}, **{k: s["paths"].pop(k) for k in list(s["paths"])}})
    ),
    "their path renamed": edited(lambda s: s["paths"].update({"/widget/{id}": s["paths"].pop("/widgets/{id}")})),
    "top-level security": edited(
        lambda s: (s["components"].update(securitySchemes={"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}), s.update(security=[{"key": []}]))
    ),
}


def test_an_operation_from_the_memo_holds_only_while_what_it_read_and_named_holds(tmp_path: Path) -> None:
    """The IR takes an operation from the memo by its path item's digest, path, method,
    operationId and context, when each `$ref` it followed out of its path item names what it
    named and each name it took (its method's, its models') is still free: every edit here
    leaves `/widgets/{id}` as it was and changes its operations."""
    for label, before, after in edits_in_turn(tmp_path, widgets(), WIDGET_EDITS):
        assert after["protocols.py"] != before["protocols.py"] or after["models.py"] != before["models.py"], label


def test_a_forked_compiler_goes_on_apart() -> None:
    """The renderer keeps a fork of the checks' compiler taken before the routes used it: what
    either makes afterwards (functions, names, constants, helpers) the other does not see."""
    document = {
        "components": {
            "schemas": {
                "A": {"type": "string", "pattern": "^a$"},
                "B": {"type": "integer", "enum": [1, 2]},
                "C": {"type": "object", "properties": {"x": {"type": "string", "pattern": "^c$"}}},
            }
        }
    }
    compiler = ValidatorCompiler(document, {"/components/schemas/A"})
    first = compiler.function_for("/components/schemas/A")
    fork = compiler.fork()
    before = (dict(compiler.functions), dict(compiler.constants), set(compiler.helpers), set(compiler.names.folded))
    made = [fork.function_for("/components/schemas/B"), fork.function_for("/components/schemas/C")]
    assert (dict(compiler.functions), dict(compiler.constants), set(compiler.helpers), set(compiler.names.folded)) == before
    # The original, going on alike, makes the same names the fork made: they started alike.
    assert [compiler.function_for("/components/schemas/B"), compiler.function_for("/components/schemas/C")] == made
    assert compiler.function_for("/components/schemas/A") == fork.function_for("/components/schemas/A") == first
    assert "\n".join(compiler.functions_source()) == "\n".join(fork.functions_source())


def shelf() -> Spec:
    """Components with nested classes (`Book.cover`: a model of its own, whose check is a
    function of its own) and operations that synthesize models (arguments, a body, an answer),
    the last in its own tag: the classes an edit adds come after all others."""
    book = {"type": "object", "properties": {"title": {"type": "string", "maxLength": 40}, "cover": {"type": "object", "properties": {"colour": {"type": "string", "enum": ["red", "blue"]}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Shelf", "version": "1"},
        "paths": {
            "/books/{book_id}": {
                "get": {
                    "operationId": "get_book",
                    "tags": ["books"],
                    "parameters": [{"name": "book_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^b[0-9]+$"}}],
                    "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Book"}}}}},
                }
            },
        },
        "components": {"schemas": {"Book": book, "Shelf": {"type": "object", "properties": {"books": {"type": "array", "items": {"$ref": "#/components/schemas/Book"}}}}}},
    }


def added_operation(n: int) -> Callable[[Spec], Spec]:
    """An operation (in a tag of its own) whose arguments, body and answer are new models."""

    def edit(spec: Spec) -> Spec:
        spec["paths"][f"/added/{n}/{{item_id}}"] = {
            "post": {
                "operationId": f"added_{n}",
                "tags": ["added"],
                "parameters": [
                    {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 9}},
                    {"name": "mode", "in": "query", "schema": {"type": "string", "enum": ["a", "b"]}},
                ],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["note"], "properties": {"note": {"type": "string", "minLength": 2}}}}}},
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object", "properties": {"count": {"type": "integer", "minimum": 0}}}}}}},
            }
        }
        return spec

    return edit




def after_the_models(config: Config) -> tuple[dict[str, str], list[str]]:
    """The files of a run, and the stages it went through once the models had come."""
    from codegen.cli import Timings

    timings = Timings()
    files = build_files(config, timings, jobs=1)[1]
    stages = [name for name, _ in timings.stages]
    # models (sent to render), spec, checks and routes (ahead), models (come), what is made again
    come = [i for i, name in enumerate(stages) if name == "models"][1]
    assert stages[come - 2 : come] == ["checks", "routes"]  # made ahead
    again = []
    for name in stages[come + 1 :]:
        if name not in ("checks", "routes"):
            break
        again.append(name)
    return files, again


def test_checks_and_routes_made_ahead_are_kept_only_when_they_hold(tmp_path: Path, ahead: None) -> None:
    """Made ahead from the last run's outline of the models: the checks and routes are kept
    whole when the outline is the same; the checks when the classes are, or when the new
    classes come after the others and belong to schemas nothing made ahead read (an operation
    added); neither otherwise. Every run gives the files of a cold run."""
    spec = shelf()
    config = project(tmp_path / "warm", spec)
    build_files(config, jobs=1)
    # (edit, what is made again once the models have come)
    edits: list[tuple[str, Callable[[Spec], Spec], set[str]]] = [
        ("description", describe("Book"), set()),
        ("property", add_property("Shelf"), {"routes"}),
        ("operation added", added_operation(1), {"routes"}),
        ("another operation added", added_operation(2), {"routes"}),
        ("operation removed", lambda spec: (spec["paths"].pop("/added/1/{item_id}"), spec)[1], {"checks", "routes"}),
    ]
    for label, edit, again in edits:
        spec = edit(spec)
        config.spec.write_text(json.dumps(spec))
        files, stages = after_the_models(config)
        assert files == cold(tmp_path / label.replace(" ", "-"), spec), label
        assert set(stages) == again, label


def test_a_package_served_whole_is_where_the_next_edit_starts(tmp_path: Path, ahead: None) -> None:
    """Back to a spec whose package the cache serves whole, then an edit: the checks and routes
    are made ahead from that package's outline of the models (not from the outline of the run
    before it), so an operation added keeps the checks."""
    spec = shelf()
    config = project(tmp_path / "warm", spec)
    build_files(config, jobs=1)
    elsewhere = added_operation(1)(json.loads(json.dumps(spec)))
    config.spec.write_text(json.dumps(elsewhere))
    build_files(config, jobs=1)
    config.spec.write_text(json.dumps(spec))
    build_files(config, jobs=1)  # served whole
    edited = added_operation(2)(spec)
    config.spec.write_text(json.dumps(edited))
    files, stages = after_the_models(config)
    assert files == cold(tmp_path / "cold", edited)
    assert stages == ["routes"]


def test_checks_made_ahead_do_not_hold_for_new_classes_they_read(tmp_path: Path, ahead: None) -> None:
    """A component added, with a nested class, and referred to by an existing component in a
    cycle (datamodel-code-generator puts their classes after the existing one's, in a spec whose
    classes are all components'): the check of the new one was compiled ahead with the existing
    one's, without its classes (its nested object checked inline, not by a function of its
    own), so the checks are made again, as in a cold run."""
    spec = shelf()
    spec["paths"] = {}
    config = project(tmp_path / "warm", spec)
    build_files(config, jobs=1)
    issue = {"type": "object", "properties": {"shelf": {"$ref": "#/components/schemas/Shelf"}, "number": {"type": "integer", "maximum": 99}}}
    schemas(spec)["Zine"] = {"type": "object", "properties": {"issue": issue}}
    schemas(spec)["Shelf"]["properties"]["zine"] = {"$ref": "#/components/schemas/Zine"}
    config.spec.write_text(json.dumps(spec))
    files, stages = after_the_models(config)
    assert files == cold(tmp_path / "cold", spec)
    assert stages == ["checks", "routes"]
