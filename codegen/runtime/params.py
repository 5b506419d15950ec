"""Request parameters as OpenAPI serializes them, decoded into the JSON values they stand for.

Covers the styles of OpenAPI 3 (form, simple, label, matrix, spaceDelimited, pipeDelimited,
deepObject) with and without explode, content-typed parameters, and the coercion of text into
the JSON types a parameter's schema allows ("5" is 5 for an integer, "true" is true).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from .nesting import MAX_NESTING, TooDeep, loads
from .operation import Param

_INT = re.compile(r"^-?(0|[1-9][0-9]*)$")
_NUM = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
MISSING = object()


class SchemaStore:
    """The spec document, with `$ref` following and the JSON types a schema allows."""

    def __init__(self, document: dict[str, Any], *, digit_booleans: bool = False) -> None:
        self.document = document
        # Also read "1"/"0" as true/false in boolean parameters (some clients send them).
        self.booleans = ("true", "false", "1", "0") if digit_booleans else ("true", "false")
        self._types: dict[int, frozenset[str]] = {}
        self._nodes: dict[str, Any] = {}

    def at(self, pointer: str) -> Any:
        """The node at a JSON pointer (`#/...`); the document never changes, so each pointer is
        walked once."""
        node = self._nodes.get(pointer, MISSING)
        if node is MISSING:
            node = self._walk(pointer)
            self._nodes[pointer] = node
        return node

    def _walk(self, pointer: str) -> Any:
        node: Any = self.document
        pointer = pointer.removeprefix("#")
        if not pointer:
            return node
        for token in pointer[1:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def resolve(self, schema: Any) -> Any:
        """`schema` with its local `$ref`s followed (a `$ref` is a URI reference: its fragment
        is percent-decoded before it is read as a JSON pointer)."""
        seen = 0
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 64:
            ref = schema["$ref"]
            if not ref.startswith("#"):
                break
            schema = self.at(unquote(ref))
            seen += 1
        return schema

    def types(self, schema: Any) -> frozenset[str]:
        """The JSON types an instance of `schema` may have (all of them when unconstrained)."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return _ALL if schema is not False else frozenset()
        key = id(schema)
        cached = self._types.get(key)
        if cached is not None:
            return cached
        self._types[key] = _ALL  # recursion guard
        result: frozenset[str] = _ALL
        t = schema.get("type")
        if isinstance(t, str):
            result = frozenset({t})
        elif isinstance(t, list):
            result = frozenset(str(x) for x in t)
        elif "const" in schema:
            result = frozenset({_json_type(schema["const"])})
        elif isinstance(schema.get("enum"), list):
            result = frozenset(_json_type(v) for v in schema["enum"])
        else:
            for key_word in ("anyOf", "oneOf"):
                if isinstance(schema.get(key_word), list):
                    union: set[str] = set()
                    for sub in schema[key_word]:
                        union |= self.types(sub)
                    result = frozenset(union)
            if isinstance(schema.get("allOf"), list):
                for sub in schema["allOf"]:
                    result = result & self.types(sub)
            if "$ref" in schema:
                result = result & self.types({"$ref": schema["$ref"]})
            if isinstance(schema.get("properties"), dict):
                # Properties without a type: codegen reads an object (codegen.runtime.dialect.reads_as_object).
                result = result & {"object"}
        if "integer" in result:
            result = result | {"number"} if "number" in result else result
        self._types[key] = result
        return result

    def property_schema(self, schema: Any, name: str) -> Any:
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return {}
        props = schema.get("properties") or {}
        if name in props:
            return props[name]
        for key_word in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(key_word) or []:
                found = self.property_schema(sub, name)
                if found != {}:
                    return found
        extra = schema.get("additionalProperties")
        return extra if isinstance(extra, dict) else {}

    def items_schema(self, schema: Any) -> Any:
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return {}
        if "items" in schema:
            return schema["items"]
        for key_word in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(key_word) or []:
                sub = self.resolve(sub)
                if isinstance(sub, dict) and "items" in sub:
                    return sub["items"]
        return {}

    def property_names(self, schema: Any) -> list[str]:
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return []
        names = list((schema.get("properties") or {}).keys())
        for key_word in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(key_word) or []:
                names.extend(n for n in self.property_names(sub) if n not in names)
        return names


_ALL = frozenset({"null", "boolean", "integer", "number", "string", "array", "object"})


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def coerce(text: str, schema: Any, store: SchemaStore) -> Any:
    """The JSON value a parameter's text stands for under `schema`.

    Text that fits none of the allowed types stays text, so validation names the mismatch.
    """
    types = store.types(schema)
    if "string" in types and not (types & {"integer", "number", "boolean", "null"}):
        return text
    if "integer" in types and _INT.match(text):
        return int(text)
    if "number" in types and _NUM.match(text):
        number = float(text)
        if math.isfinite(number):
            return int(text) if _INT.match(text) else number
    # langgraph-sdk and other clients send booleans as 1/0 (`?wait=1`)
    if "boolean" in types and text in store.booleans:
        return text in ("true", "1")
    if "null" in types and text in ("null", ""):
        return None
    if "integer" in types and _NUM.match(text):
        number = float(text)
        if math.isfinite(number):
            return number
    if types & {"object", "array"} and not ("string" in types) and text[:1] in ("{", "["):
        try:
            return loads(text)
        except ValueError:  # not JSON, or nested too deeply (TooDeep): fails the schema
            return text
    return text


def _split(text: str, sep: str) -> list[str]:
    return text.split(sep) if text != "" else []


class RawRequest:
    """The parts of a request parameters are read from."""

    def __init__(
        self,
        path_params: dict[str, str],
        query: list[tuple[str, str]],
        headers: Any,
        cookies: dict[str, str],
        raw_path: bool = False,
    ) -> None:
        self.path_params = path_params
        self.raw_path = raw_path  # whether path_params are still percent-encoded
        self.query = query
        self.headers = headers
        self.cookies = cookies

    def query_values(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]


def decode_param(p: Param, raw: RawRequest, store: SchemaStore, claimed: set[str]) -> Any:
    """The JSON value of parameter `p`, or MISSING when the request does not carry it."""
    schema = store.at(p.schema) if p.schema else p.inline_schema if p.inline_schema is not None else {}
    if p.location == "path":
        text = raw.path_params.get(p.route_name or p.name)
        if text is None:
            return MISSING
    elif p.location == "header":
        values = raw.headers.getlist(p.name) if hasattr(raw.headers, "getlist") else [raw.headers.get(p.name)]
        values = [v for v in values if v is not None]
        if not values:
            return MISSING
        text = ",".join(values)
    elif p.location == "cookie":
        if p.name not in raw.cookies:
            return MISSING
        text = raw.cookies[p.name]
    else:
        text = None

    if p.content_type is not None:
        if p.location == "query":
            values = raw.query_values(p.name)
            if not values:
                return MISSING
            text = values[0]
        assert text is not None
        try:
            return loads(text) if "json" in p.content_type else text
        except ValueError:  # not JSON, or nested too deeply (TooDeep): fails the schema
            return text

    types = store.types(schema)
    kind = "array" if types == {"array"} else "object" if types == {"object"} else "scalar"

    if p.location == "query":
        return _decode_query(p, raw, store, schema, kind, claimed)

    assert text is not None
    # Path values come percent-encoded (RawRequest.raw_path): split first, then decode each piece,
    # so an encoded delimiter stays data.
    piece = unquote if p.location == "path" and raw.raw_path else _same
    return _decode_styled(p, text, schema, kind, store, piece)


def _same(text: str) -> str:
    return text


def _decode_styled(p: Param, text: str, schema: Any, kind: str, store: SchemaStore, piece: Callable[[str], str]) -> Any:
    """A path, header or cookie value of style label, matrix, simple or form."""
    items = store.items_schema(schema) if kind == "array" else None
    if p.style == "label":
        if not text.startswith("."):
            return piece(text)
        text = text[1:]
        sep = "." if p.explode else ","
        if kind == "array":
            return [coerce(piece(v), items, store) for v in _split(text, sep)]
        if kind == "object":
            return _pairs(text, sep, p.explode, schema, store, piece)
        return coerce(piece(text), schema, store)
    if p.style == "matrix":
        prefix = f";{p.name}"
        if kind == "object" and p.explode:
            parts = [x for x in text.split(";") if x]
            return _kv_object([tuple(x.split("=", 1)) if "=" in x else (x, "") for x in parts], schema, store, piece)
        if kind == "array" and p.explode:
            return [coerce(piece(x[len(p.name) + 1 :]), items, store) for x in text.split(";") if x.startswith(p.name + "=")]
        if not text.startswith(prefix):
            return piece(text)
        text = text[len(prefix) :]
        text = text.removeprefix("=")
        if kind == "array":
            return [coerce(piece(v), items, store) for v in _split(text, ",")]
        if kind == "object":
            return _pairs(text, ",", False, schema, store, piece)
        return coerce(piece(text), schema, store)
    # simple (path, header) and form (cookie)
    if kind == "array":
        return [coerce(piece(v.strip() if p.location == "header" else v), items, store) for v in _split(text, ",")]
    if kind == "object":
        return _pairs(text, ",", p.explode, schema, store, piece)
    return coerce(piece(text), schema, store)


def _decode_query(p: Param, raw: RawRequest, store: SchemaStore, schema: Any, kind: str, claimed: set[str]) -> Any:
    if p.style == "deepObject":
        prefix = p.name + "["
        pairs = [(k[len(prefix) :], v) for k, v in raw.query if k.startswith(prefix)]
        if not pairs:
            return MISSING
        result: dict[str, Any] = {}
        for key, value in pairs:
            path = [part.rstrip("]") for part in key.split("[")]
            if len(path) > MAX_NESTING:
                raise TooDeep
            node = result
            for part in path[:-1]:
                nxt = node.setdefault(part, {})
                node = nxt if isinstance(nxt, dict) else {}
            sub = schema
            for part in path:
                sub = store.property_schema(sub, part)
            node[path[-1]] = coerce(value, sub, store)
        return result
    if kind == "object" and p.style == "form" and p.explode:
        names = store.property_names(schema)
        resolved = store.resolve(schema)
        extra = resolved.get("additionalProperties", True) if isinstance(resolved, dict) else True
        pairs = [(k, v) for k, v in raw.query if k in names or (extra is not False and k not in claimed)]
        if not pairs:
            return MISSING
        return _kv_object(pairs, schema, store)
    values = raw.query_values(p.name)
    if not values:
        return MISSING
    if kind == "array":
        items = store.items_schema(schema)
        if p.explode and p.style in ("form", "spaceDelimited", "pipeDelimited"):
            return [coerce(v, items, store) for v in values]
        sep = {"form": ",", "spaceDelimited": " ", "pipeDelimited": "|"}.get(p.style, ",")
        return [coerce(v, items, store) for v in _split(values[-1], sep)]
    if kind == "object":
        sep = {"form": ",", "spaceDelimited": " ", "pipeDelimited": "|"}.get(p.style, ",")
        return _pairs(values[-1], sep, False, schema, store)
    if len(values) > 1 and not p.allow_empty_value:
        # A scalar given twice: keep the list so validation reports the mismatch.
        return [coerce(v, schema, store) for v in values]
    return coerce(values[0], schema, store)


def _pairs(text: str, sep: str, explode: bool, schema: Any, store: SchemaStore, piece: Callable[[str], str] = _same) -> Any:
    parts = _split(text, sep)
    if explode:
        pairs = [tuple(x.split("=", 1)) if "=" in x else (x, "") for x in parts]
        return _kv_object(pairs, schema, store, piece)
    if len(parts) % 2:
        return piece(text)
    return _kv_object(list(zip(parts[::2], parts[1::2], strict=True)), schema, store, piece)


def _kv_object(pairs: list[Any], schema: Any, store: SchemaStore, piece: Callable[[str], str] = _same) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        key, value = piece(key), piece(value)
        sub = store.property_schema(schema, key)
        if store.types(sub) == {"array"}:
            result.setdefault(key, []).append(coerce(value, store.items_schema(sub), store))
        else:
            result[key] = coerce(value, sub, store)
    return result


def decode_form(pairs: list[tuple[str, str]], schema: Any, encoding: dict[str, Any], store: SchemaStore) -> dict[str, Any]:
    """An application/x-www-form-urlencoded body as an object.

    A property with a `style` or `explode` in its `encoding` is read like a query parameter of
    that style; otherwise objects and properties of a JSON `contentType` are JSON text (the
    default content type of objects) and arrays repeated keys. Keys the schema does not name are read by `additionalProperties`.
    """
    raw = RawRequest({}, pairs, {}, {})
    names = store.property_names(schema)
    claimed = set(names)
    result: dict[str, Any] = {}
    for name in names:
        rules = encoding.get(name) if isinstance(encoding.get(name), dict) else {}
        sub = store.property_schema(schema, name)
        types = store.types(sub)
        kind = "array" if types == {"array"} else "object" if types == {"object"} else "scalar"
        as_json = "json" in str(rules.get("contentType", "")).lower()
        if "style" not in rules and "explode" not in rules and (kind == "object" or as_json):
            values = raw.query_values(name)
            if values:
                result[name] = coerce(values[-1], sub, store)
            continue
        style = str(rules.get("style", "form"))
        param = Param(name=name, location="query", key=name, schema="", style=style, explode=bool(rules.get("explode", style == "form")))
        value = _decode_query(param, raw, store, sub, kind, claimed)
        if value is not MISSING:
            result[name] = value
    deep = tuple(f"{name}[" for name in names)
    for key, text in pairs:
        if key in claimed or key.startswith(deep):
            continue
        value = coerce(text, store.property_schema(schema, key), store)
        if key in result:
            previous = result[key]
            result[key] = [*(previous if isinstance(previous, list) else [previous]), value]
        else:
            result[key] = value
    return result
