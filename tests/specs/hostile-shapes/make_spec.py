"""Writes openapi.yaml of this fixture: `python tests/specs/hostile-shapes/make_spec.py`.

The shapes are too large to write by hand (an enum of 5,000 values, 200 required properties,
50-branch combinators, trees of dozens of schemas); tests/test_bounds.py checks that the
committed openapi.yaml is what this script writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPEC = HERE / "openapi.yaml"

TREE_DEPTH, TREE_WIDTH = 8, 3  # levels of the analytics-like tree, schemas per level
HUGE_DEPTH, HUGE_FANOUT = 10, 4  # a tree whose smallest value has 4**10 leaves
WIDE_BRANCHES, WIDE_LEVELS = 52, 3
CHAIN = 30  # allOf levels
ENUM_SIZE = 5000
REQUIRED_SIZE = 200


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: Any, *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def answer(schema: Any, description: str = "the value") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "422": {"$ref": "#/components/responses/Invalid"},
    "default": {"$ref": "#/components/responses/Failure"},
}


def operation(operation_id: str, response: Any, body: Any = None, **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": operation_id, "responses": {"200": answer(response), **ERRORS}}
    if body is not None:
        op["requestBody"] = body
    op.update(extra)
    return op


def schemas() -> dict[str, Any]:
    s: dict[str, Any] = {}
    # -- self-reference ----------------------------------------------------------------------
    s["SelfOptional"] = {
        "description": "A property of its own type, optional.",
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "self": ref("SelfOptional")},
    }
    s["SelfRequired"] = {
        "description": "A property of its own type, required, nullable: the way out is null.",
        "type": "object",
        "required": ["name", "next"],
        "properties": {"name": {"type": "string"}, "next": {"anyOf": [ref("SelfRequired"), {"type": "null"}]}},
    }
    s["Endless"] = {
        "description": "A required property of its own type and no way out: no finite value.",
        "type": "object",
        "required": ["next"],
        "properties": {"next": ref("Endless")},
    }
    s["ArrayTree"] = {
        "description": "Itself through a required array (the empty array ends it).",
        "type": "object",
        "required": ["label", "children"],
        "properties": {"label": {"type": "string"}, "children": {"type": "array", "items": ref("ArrayTree")}},
    }
    s["MapTree"] = {
        "description": "Itself through a map.",
        "type": "object",
        "properties": {"label": {"type": "string"}},
        "additionalProperties": ref("MapTree"),
    }
    s["Named"] = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}}
    s["AllOfTree"] = {
        "description": "Itself through allOf: a base, and children of its own type.",
        "allOf": [
            ref("Named"),
            {
                "type": "object",
                "required": ["kind"],
                "properties": {
                    "kind": {"const": "node"},
                    "child": ref("AllOfTree"),
                    "siblings": {"type": "array", "items": ref("AllOfTree")},
                },
            },
        ],
    }
    s["OneOfTree"] = {
        "description": "Itself through oneOf: a leaf, or a pair of trees.",
        "oneOf": [
            {"type": "string", "pattern": "^leaf-[0-9]+$"},
            {
                "type": "object",
                "required": ["left", "right"],
                "properties": {"left": ref("OneOfTree"), "right": ref("OneOfTree")},
                "additionalProperties": False,
            },
        ],
    }
    # -- mutual recursion across three schemas ---------------------------------------------
    s["CycleA"] = {"type": "object", "required": ["b"], "properties": {"b": ref("CycleB"), "tag": {"type": "string"}}}
    s["CycleB"] = {
        "type": "object",
        "required": ["cs"],
        "properties": {"cs": {"type": "array", "items": ref("CycleC")}},
    }
    s["CycleC"] = {
        "type": "object",
        "properties": {"byName": {"type": "object", "additionalProperties": ref("CycleA")}},
        "minProperties": 1,
    }
    # -- an analytics-like tree of $refs ---------------------------------------------------
    s["LinkBase"] = {
        "type": "object",
        "required": ["href"],
        "properties": {
            "href": {"type": "string", "example": "/v2/things/{id}"},
            "method": {"type": "string", "enum": ["GET", "POST", "PUT", "DELETE"], "default": "GET"},
            "templated": {"type": "boolean", "example": "true"},  # an example of the wrong type
            "docUrl": {"type": "string", "format": "uri", "example": "not a uri"},
            "info": ref("LinkInfo"),
            "parameters": {"type": "object", "additionalProperties": ref("LinkParameter")},
        },
    }
    s["LinkInfo"] = {
        "type": "object",
        "properties": {
            "errors": {"type": "array", "items": ref("LinkMessage")},
            "warnings": {"type": "array", "items": ref("LinkMessage")},
        },
    }
    s["LinkMessage"] = {
        "type": "object",
        "required": ["code", "message"],
        "properties": {"code": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{3}$"}, "message": {"type": "string"}},
    }
    s["LinkParameter"] = {
        "type": "object",
        "properties": {
            "required": {"type": "boolean", "example": "false"},
            "lovLink": ref("Link"),
            "properties": {"type": "object", "additionalProperties": ref("LinkParameter")},
        },
    }
    s["Link"] = {"allOf": [ref("LinkBase"), {"example": {"href": "/v2/things", "method": "GET"}}]}
    for level in range(TREE_DEPTH):
        for i in range(TREE_WIDTH):
            name = f"Tree{level}{'ABC'[i]}"
            below = [f"Tree{level + 1}{'ABC'[j]}" for j in range(TREE_WIDTH)] if level + 1 < TREE_DEPTH else ["Link"] * 3
            s[name] = {
                "type": "object",
                "required": ["links", "first"],
                "properties": {
                    "links": {
                        "type": "object",
                        "required": ["self"],
                        "properties": {"self": ref("Link"), "parent": ref("Link"), "next": ref("Link")},
                    },
                    "first": ref(below[0]),
                    "second": ref(below[1 % len(below)]),
                    "all": {"type": "array", "items": ref(below[2 % len(below)])},
                    "byName": {"type": "object", "additionalProperties": ref(below[0])},
                    "either": {"oneOf": [ref(below[1 % len(below)]), {"type": "null"}]},
                },
            }
    for level in range(HUGE_DEPTH):
        below = ref(f"Huge{level + 1}") if level + 1 < HUGE_DEPTH else {"type": "integer"}
        s[f"Huge{level}"] = {
            "type": "object",
            "required": [f"k{i}" for i in range(HUGE_FANOUT)],
            "properties": {f"k{i}": below for i in range(HUGE_FANOUT)},
        }
    # -- wide combinators nested -----------------------------------------------------------
    for level in range(1, WIDE_LEVELS + 1):
        key = "anyOf" if level % 2 else "oneOf"
        if level < WIDE_LEVELS:
            branches: list[Any] = [
                {
                    "type": "object",
                    "required": [f"k{i}"],
                    "properties": {f"k{i}": ref(f"Wide{level + 1}")},
                    "additionalProperties": False,
                }
                for i in range(WIDE_BRANCHES)
            ]
        else:
            branches = [{"const": f"v{i}"} for i in range(WIDE_BRANCHES - 2)] + [
                {"type": "integer", "minimum": 1000},
                {"type": "array", "items": ref("Wide1"), "maxItems": 2},
            ]
        s[f"Wide{level}"] = {key: branches}
    s["Overlap"] = {
        "description": "anyOf branches that all accept objects: each is tried on every failure.",
        "anyOf": [
            {"type": "object", "properties": {"x": ref("Overlap")}, "minProperties": 1, "maxProperties": 1 + i % 3}
            for i in range(WIDE_BRANCHES)
        ],
    }
    # -- allOf chain -------------------------------------------------------------------------
    for level in range(CHAIN):
        parts: list[Any] = [{"type": "object", "required": [f"p{level}"], "properties": {f"p{level}": {"type": "integer", "minimum": level}}}]
        if level + 1 < CHAIN:
            parts.insert(0, ref(f"Chain{level + 1}"))
        s[f"Chain{level}"] = {"allOf": parts}
    # -- huge enum, many required --------------------------------------------------------------
    s["Code"] = {"type": "string", "enum": [f"code-{i:04d}" for i in range(ENUM_SIZE)]}
    s["Coded"] = {
        "type": "object",
        "required": ["code"],
        "properties": {"code": ref("Code"), "more": {"type": "array", "items": ref("Code"), "uniqueItems": True}},
    }
    kinds = [
        {"type": "string"},
        {"type": "integer", "minimum": 0},
        {"type": "string", "format": "date-time"},
        {"type": "boolean"},
        {"type": "string", "format": "uuid"},
        {"type": "number", "multipleOf": 0.5},
        {"type": "string", "pattern": "^[a-z]{3}$"},
        {"type": "array", "items": {"type": "string"}, "minItems": 1},
    ]
    s["ManyRequired"] = {
        "type": "object",
        "required": [f"field{i:03d}" for i in range(REQUIRED_SIZE)],
        "properties": {f"field{i:03d}": kinds[i % len(kinds)] for i in range(REQUIRED_SIZE)},
    }
    # -- patterns and formats inside recursion ---------------------------------------------
    s["PatternTree"] = {
        "type": "object",
        "required": ["code", "contact", "children"],
        "properties": {
            "code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
            "contact": {"type": "string", "format": "email"},
            "at": {"type": "string", "format": "date-time"},
            "id": {"type": "string", "format": "uuid"},
            "children": {"type": "array", "items": ref("PatternTree"), "maxItems": 3},
        },
        "patternProperties": {"^x-[a-z]+$": {"type": "string", "pattern": "^[0-9a-f]{6}$"}},
    }
    # -- unsatisfiable -------------------------------------------------------------------------
    s["StringAndInteger"] = {"description": "No value is both.", "allOf": [{"type": "string"}, {"type": "integer"}]}
    s["ContradictoryObject"] = {
        "description": "`a` must be 1 and 2.",
        "allOf": [
            {"type": "object", "required": ["a"], "properties": {"a": {"const": 1}}},
            {"type": "object", "properties": {"a": {"const": 2}}},
        ],
    }
    # -- error bodies ----------------------------------------------------------------------------
    s["Problem"] = {
        "description": "An error body that nests itself.",
        "type": "object",
        "required": ["detail"],
        "properties": {"detail": {"type": "string"}, "cause": ref("Problem")},
    }
    return s


def paths() -> dict[str, Any]:
    p: dict[str, Any] = {}
    for path, name, required in (
        ("/self/optional", "SelfOptional", False),
        ("/self/required", "SelfRequired", True),
        ("/self/arrays", "ArrayTree", True),
        ("/self/maps", "MapTree", False),
        ("/self/all-of", "AllOfTree", True),
        ("/self/one-of", "OneOfTree", True),
        ("/cycle", "CycleA", True),
        ("/chain", "Chain0", False),
        ("/wide", "Wide1", True),
        ("/overlap", "Overlap", False),
        ("/codes", "Coded", True),
        ("/required", "ManyRequired", True),
        ("/patterns", "PatternTree", True),
    ):
        op_id = "post_" + path.strip("/").replace("/", "_").replace("-", "_")
        p[path] = {"post": operation(op_id, ref(name), json_body(ref(name), required=required))}
    p["/self/endless"] = {
        "post": operation("post_endless", {"type": "object", "properties": {"ok": {"type": "boolean"}}}, json_body(ref("Endless")))
    }
    p["/self/endless/echo"] = {
        "post": operation("post_endless_echo", ref("Endless"), json_body(ref("Endless"), required=False))
    }
    p["/tree"] = {"get": operation("get_tree", ref("Tree0A"))}
    p["/tree/huge"] = {"get": operation("get_huge_tree", ref("Huge0"))}
    p["/codes/{code}"] = {
        "get": operation(
            "get_code",
            ref("Coded"),
            parameters=[
                {"name": "code", "in": "path", "required": True, "schema": ref("Code")},
                {"name": "also", "in": "query", "schema": {"type": "array", "items": ref("Code")}},
            ],
        )
    }
    p["/impossible/type"] = {"get": operation("get_string_and_integer", ref("StringAndInteger"))}
    p["/impossible/object"] = {
        "get": {
            "operationId": "get_contradictory_object",
            "responses": {
                "200": answer(ref("ContradictoryObject")),
                "5XX": {"$ref": "#/components/responses/Failure"},
            },
        }
    }
    p["/impossible/undeclared"] = {
        "get": {
            "operationId": "get_impossible_without_error",
            "responses": {"200": answer(ref("StringAndInteger"))},
        }
    }
    p["/endless-error"] = {
        "post": {
            "operationId": "post_endless_error",
            "requestBody": json_body(ref("SelfOptional")),
            "responses": {
                "200": answer({"type": "string"}),
                "422": answer(ref("Endless"), "an error body no value satisfies"),
            },
        }
    }
    # Self-reference through every other way a request carries values.
    p["/forms/tree"] = {
        "post": operation(
            "post_form_tree",
            {"type": "string"},
            {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "required": ["tree"], "properties": {"tree": ref("SelfOptional"), "note": {"type": "string"}}},
                        "encoding": {"tree": {"contentType": "application/json"}},
                    }
                },
            },
        )
    }
    p["/multipart/tree"] = {
        "post": operation(
            "post_multipart_tree",
            {"type": "string"},
            {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {"type": "object", "required": ["tree"], "properties": {"tree": ref("SelfOptional"), "file": {"type": "string", "format": "binary"}}},
                        "encoding": {"tree": {"contentType": "application/json"}},
                    }
                },
            },
        )
    }
    p["/xml/tree"] = {
        "post": operation(
            "post_xml_tree",
            ref("SelfOptional"),
            {"required": True, "content": {"application/xml": {"schema": ref("SelfOptional")}}},
        )
    }
    p["/params/tree"] = {
        "get": operation(
            "get_params_tree",
            ref("SelfOptional"),
            parameters=[
                {"name": "filter", "in": "query", "content": {"application/json": {"schema": ref("SelfOptional")}}},
                {"name": "deep", "in": "query", "style": "deepObject", "explode": True, "schema": ref("MapTree")},
                {"name": "x-tree", "in": "header", "content": {"application/json": {"schema": ref("SelfOptional")}}},
            ],
        )
    }
    return p


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hostile shapes", "version": "1"},
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "responses": {
                "Invalid": {"description": "the request does not match the spec", "content": {"application/json": {"schema": ref("Problem")}}},
                "Failure": {"description": "the server failed", "content": {"application/json": {"schema": ref("Problem")}}},
            },
        },
    }


def text() -> str:
    """The fixture as YAML: one JSON document per line of block mapping is valid YAML; flow
    style keeps it short."""
    doc = document()
    lines = ["# Generated by make_spec.py in this folder; edit that, then run it.", f"openapi: {json.dumps(doc['openapi'])}"]
    for key in ("info", "paths", "components"):
        lines.append(f"{key}:")
        for name, value in doc[key].items():
            if key == "components":
                lines.append(f"  {name}:")
                for inner, sub in value.items():
                    lines.append(f"    {json.dumps(inner)}: {json.dumps(sub, separators=(', ', ': '))}")
            else:
                lines.append(f"  {json.dumps(name)}: {json.dumps(value, separators=(', ', ': '))}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    SPEC.write_text(text(), encoding="utf-8")
