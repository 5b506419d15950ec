"""One dialect downstream: OpenAPI 3.0 schema objects rewritten as JSON Schema 2020-12.

Shared by the generator (validators, models) and the runtime (mock synthesis, parameter
coercion), so both read schemas the same way.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from .pointers import ref_pointer, ref_to, split_pointer

# Keys under which a child is itself a JSON Schema, when its parent is one (with the older
# drafts' `additionalItems` and `definitions`, which 3.0 documents still use).
SCHEMA_CHILD_KEYS = (
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
)
SCHEMA_LIST_KEYS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_MAP_KEYS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def normalize_schema(schema: Any, version: str) -> Any:
    """A copy of `schema` with 3.0 keywords (`nullable`, boolean exclusive bounds, `$ref`
    siblings) expressed in 2020-12; 3.1 schemas come back as equal copies."""
    if isinstance(schema, bool) or not isinstance(schema, dict):
        return schema
    node = dict(schema)
    if version == "3.0":
        if "$ref" in node:
            return {"$ref": node["$ref"]}
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            flag = node.get(exclusive)
            if isinstance(flag, bool):
                del node[exclusive]
                if flag and bound in node:
                    node[exclusive] = node.pop(bound)
        nullable = node.pop("nullable", False) is True
    else:
        nullable = False
    for key in SCHEMA_CHILD_KEYS:
        if key in node:
            node[key] = normalize_schema(node[key], version)
    if version == "3.0" and isinstance(node.get("items"), list):
        node["prefixItems"] = node.pop("items")
    for key in SCHEMA_LIST_KEYS:
        if isinstance(node.get(key), list):
            node[key] = [normalize_schema(s, version) for s in node[key]]
    for key in SCHEMA_MAP_KEYS:
        if isinstance(node.get(key), dict):
            node[key] = {k: normalize_schema(v, version) for k, v in node[key].items()}
    if nullable:
        if "type" in node:
            types = node["type"] if isinstance(node["type"], list) else [node["type"]]
            if "null" not in types:
                node["type"] = [*types, "null"]
            if isinstance(node.get("enum"), list) and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
        else:
            node = {"anyOf": [{"type": "null"}, node]}
    return node


# The one place codegen reads a schema otherwise than JSON Schema does (README, "Schemas").
TYPELESS_OBJECT = "must be an object (the schema has properties but no type; codegen reads it as an object)"


def reads_as_object(schema: Any) -> bool:
    """A schema with `properties` and no `type` (common in OpenAPI 3.0 documents): JSON
    Schema lets any non-object through it, codegen reads it as `type: object`, as its model
    (a class with those fields) and the spec's authors mean it."""
    return isinstance(schema, dict) and "type" not in schema and isinstance(schema.get("properties"), dict)


def read_as_objects(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of `document` in which every schema with `properties` and no `type` has `type:
    object` (and nothing else changes): JSON Schema's reading of the document once codegen's
    one deviation (`reads_as_object`) is applied, for the tests and the corpus triage to judge
    by."""
    copied = copy.deepcopy(document)

    def walk(schema: Any) -> None:
        if not isinstance(schema, dict):
            return
        if "type" not in schema and isinstance(schema.get("properties"), dict):
            schema["type"] = "object"
        for key in SCHEMA_CHILD_KEYS:
            walk(schema.get(key))
        for key in SCHEMA_LIST_KEYS:
            for sub in schema.get(key) if isinstance(schema.get(key), list) else ():
                walk(sub)
        for key in SCHEMA_MAP_KEYS:
            for sub in schema.get(key).values() if isinstance(schema.get(key), dict) else ():
                walk(sub)

    for container, key in iter_schema_slots(copied):
        walk(container[key])
    return copied


def iter_schema_slots(document: dict[str, Any]) -> list[tuple[Any, Any]]:
    """Every place in an OpenAPI document that holds a schema, as (container, key) pairs.

    Covers components (schemas, parameters, headers, request bodies, responses), path items,
    operations, callbacks and webhooks.
    """
    slots: list[tuple[Any, Any]] = []

    def media(content: Any) -> None:
        if isinstance(content, dict):
            for media_type in content.values():
                if isinstance(media_type, dict) and "schema" in media_type:
                    slots.append((media_type, "schema"))

    def parameter(p: Any) -> None:
        if isinstance(p, dict):
            if "schema" in p:
                slots.append((p, "schema"))
            media(p.get("content"))

    def headers(h: Any) -> None:
        if isinstance(h, dict):
            for header in h.values():
                parameter(header)

    def response(r: Any) -> None:
        if isinstance(r, dict):
            media(r.get("content"))
            headers(r.get("headers"))

    def operation(op: Any) -> None:
        if not isinstance(op, dict):
            return
        for p in op.get("parameters") or []:
            parameter(p)
        body = op.get("requestBody")
        if isinstance(body, dict):
            media(body.get("content"))
        for r in (op.get("responses") or {}).values():
            response(r)
        for cb in (op.get("callbacks") or {}).values():
            if isinstance(cb, dict):
                for item in cb.values():
                    path_item(item)

    def path_item(item: Any) -> None:
        if not isinstance(item, dict):
            return
        for p in item.get("parameters") or []:
            parameter(p)
        for key, op in item.items():
            if key in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
                operation(op)

    for item in (document.get("paths") or {}).values():
        path_item(item)
    for item in (document.get("webhooks") or {}).values():
        path_item(item)
    components = document.get("components") or {}
    for name in list((components.get("schemas") or {}).keys()):
        slots.append((components["schemas"], name))
    for p in (components.get("parameters") or {}).values():
        parameter(p)
    headers(components.get("headers"))
    for body in (components.get("requestBodies") or {}).values():
        if isinstance(body, dict):
            media(body.get("content"))
    for r in (components.get("responses") or {}).values():
        response(r)
    for item in (components.get("pathItems") or {}).values():
        path_item(item)
    return slots


# A change `--lenient` makes to the document it reads (never to the one it serves):
# ("set", JSON pointer, value) or ("remove", JSON pointer).
Fix = tuple[Any, ...]


def normalize_document(document: dict[str, Any], version: str, fixes: Sequence[Fix] = ()) -> dict[str, Any]:
    """A copy of an OpenAPI document with `fixes` applied, whose every schema is in the
    2020-12 dialect, whose request bodies' files are `format: binary` strings (see
    `mark_binary`), and whose local `$ref`s are written one way (see `canonical_refs`)."""
    doc = json_copy(document)
    apply_fixes(doc, fixes)
    canonical_refs(doc)
    for container, key in iter_schema_slots(doc):
        container[key] = normalize_schema(container[key], version)
    bodies = [op.get("requestBody") for op in _operations(doc)]
    bodies += list(((doc.get("components") or {}).get("requestBodies") or {}).values())
    for body in bodies:
        content = body.get("content") if isinstance(body, dict) else None
        for media_type, media in (content.items() if isinstance(content, dict) else ()):
            if isinstance(media, dict) and isinstance(media.get("schema"), dict):
                mark_binary(media["schema"], str(media_type))
    return doc


def normalize_fragment(kind: str, value: Any, version: str) -> Any:
    """A path item (`kind` "path") or a component schema ("schema") as `normalize_document`
    normalizes it: each is normalized by itself, whatever the rest of the document holds."""
    if kind == "path":
        return normalize_document({"paths": {"/": value}}, version)["paths"]["/"]
    return normalize_document({"components": {"schemas": {"_": value}}}, version)["components"]["schemas"]["_"]


def json_copy(node: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists and scalars), a few times faster than
    copy.deepcopy, which also tracks shared and cyclic objects a loaded document never holds."""
    if type(node) is dict:
        return {key: json_copy(value) for key, value in node.items()}
    if type(node) is list:
        return [json_copy(value) for value in node]
    return node


def apply_fixes(document: dict[str, Any], fixes: Sequence[Fix]) -> None:
    """Apply `fixes` to `document` in place (a pointer that names nothing is skipped)."""
    for fix in fixes:
        tokens = split_pointer(fix[1])
        if not tokens:
            continue
        parent: Any = document
        for token in tokens[:-1]:
            parent = _child(parent, token)
        if isinstance(parent, dict):
            if fix[0] == "set":
                parent[tokens[-1]] = fix[2]
            else:
                parent.pop(tokens[-1], None)


def _child(node: Any, token: str) -> Any:
    if isinstance(node, dict):
        return node.get(token)
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return node[int(token)]
    return None


def canonical_refs(node: Any) -> None:
    """Rewrite, in place, each local `$ref` (and discriminator mapping to one) in its canonical
    form: a `$ref` is a URI reference whose fragment may be percent-encoded
    ("#/paths/~1a~1%7Bid%7D"), and every reader downstream finds the same pointer in it."""
    written: dict[str, str] = {}  # the same $ref recurs: each is rewritten once

    def canonical(ref: str) -> str:
        if ref not in written:
            written[ref] = ref_to(ref_pointer(ref))
        return written[ref]

    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                node["$ref"] = canonical(ref)
            mapping = node.get("mapping") if isinstance(node.get("propertyName"), str) else None
            if isinstance(mapping, dict):
                node["mapping"] = {k: canonical(v) if isinstance(v, str) and v.startswith("#") else v for k, v in mapping.items()}
            # Values of the API (examples, defaults, enums) are data, not references.
            stack.extend(
                v
                for k, v in node.items()
                if isinstance(v, (dict, list)) and k not in _VALUES and not (k == "examples" and isinstance(v, list))
            )


_VALUES = ("example", "default", "enum", "const", "value")


_TEXTUAL = ("application/json", "application/x-www-form-urlencoded", "text/")


def mark_binary(schema: dict[str, Any], media_type: str) -> None:
    """OpenAPI 3.1 spells a file `contentMediaType` without `contentEncoding` (3.0: `format:
    binary`): in a binary body or a multipart part, such a string is raw bytes. Marks the
    inline schemas of a body (multipart: its properties and their items) as 3.0 does."""
    base = media_type.split(";")[0].strip().lower()
    if base.startswith(_TEXTUAL) or base.endswith("json"):
        return
    nodes = [schema]
    if base.startswith("multipart/"):
        for sub in (schema.get("properties") or {}).values():
            nodes += [sub, sub.get("items")] if isinstance(sub, dict) else []
    for node in nodes:
        if isinstance(node, dict) and "contentMediaType" in node and "contentEncoding" not in node and "format" not in node:
            node["format"] = "binary"


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    items = list((document.get("paths") or {}).values()) + list(((document.get("components") or {}).get("pathItems") or {}).values())
    return [
        op
        for item in items
        if isinstance(item, dict)
        for method, op in item.items()
        if method in ("get", "put", "post", "delete", "options", "head", "patch", "trace") and isinstance(op, dict)
    ]


def access(schema: Any, resolve: Any = None) -> str | None:
    """"readOnly" or "writeOnly" when a property's schema is marked so (directly, beside or
    through one `$ref`), else None."""
    for _ in range(2):
        if not isinstance(schema, dict):
            return None
        for flag in ("readOnly", "writeOnly"):
            if schema.get(flag) is True:
                return flag
        if resolve is None or not isinstance(schema.get("$ref"), str):
            return None
        schema = resolve(schema["$ref"])
    return None


def required_in(schema: dict[str, Any], direction: str, resolve: Any = None) -> list[Any]:
    """`required` as it applies in a direction: a request need not send readOnly properties, a
    response need not send writeOnly ones, a value built in code need send neither ("")."""
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    waived = {"request": ("readOnly",), "response": ("writeOnly",)}.get(direction, ("readOnly", "writeOnly"))
    return [name for name in schema.get("required") or [] if access(properties.get(name), resolve) not in waived]


def for_direction(document: dict[str, Any], direction: str) -> dict[str, Any]:
    """A copy of a normalized document whose schemas require what a request ("request") or a
    response ("response") must carry (OpenAPI's readOnly and writeOnly)."""
    import copy

    from .pointers import resolve_ref

    doc = copy.deepcopy(document)

    def resolve(ref: str) -> Any:
        try:
            return resolve_ref(document, ref) if ref.startswith("#") else None
        except (KeyError, IndexError, ValueError):
            return None

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("required"), list) and isinstance(node.get("properties"), dict):
                node["required"] = required_in(node, direction, resolve)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for container, key in iter_schema_slots(doc):
        walk(container[key])
    return doc
