"""Build a large spec from spec/openapi.yaml by replicating it under renamed paths and schemas.

`python bench/make_large_spec.py OUT.json [COPIES]`: COPIES (default 18) copies of every path
(prefixed `/vN`), operationId (suffixed `_vN`), tag and component schema (suffixed `VN`), with every
`$ref` rewritten to its copy: 18 copies of the LangSmith spec give 1,152 operations and 1,044
component schemas. Deterministic; needs nothing downloaded.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _rename_refs(node: Any, suffix: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/"):
                kind, _, name = value[len("#/components/") :].partition("/")
                out[key] = f"#/components/{kind}/{name}{suffix}"
            else:
                out[key] = _rename_refs(value, suffix)
        return out
    if isinstance(node, list):
        return [_rename_refs(v, suffix) for v in node]
    return node


def build(copies: int) -> dict[str, Any]:
    base = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())
    large: dict[str, Any] = {
        "openapi": base["openapi"],
        "info": {"title": "LangSmith Deployment Large", "version": base["info"]["version"]},
        "tags": [],
        "paths": {},
        "components": {},
    }
    for n in range(1, copies + 1):
        suffix = f"V{n}"
        part = _rename_refs(copy.deepcopy(base), suffix)
        for tag in part.get("tags", []):
            large["tags"].append({**tag, "name": f"{tag['name']} {suffix}"})
        for path, item in part["paths"].items():
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op:
                    op["operationId"] = f"{op['operationId']}_v{n}"
                    op["tags"] = [f"{t} {suffix}" for t in op.get("tags", [])]
            large["paths"][f"/v{n}{path}"] = item
        for kind, entries in part["components"].items():
            target = large["components"].setdefault(kind, {})
            for name, value in entries.items():
                target[f"{name}{suffix}"] = value
    return large


def main() -> None:
    out = Path(sys.argv[1])
    copies = int(sys.argv[2]) if len(sys.argv) > 2 else 18
    doc = build(copies)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1))
    ops = sum(1 for item in doc["paths"].values() for k in item if k in ("get", "put", "post", "delete", "patch"))
    print(f"{out}: {ops} operations, {len(doc['components']['schemas'])} component schemas")


if __name__ == "__main__":
    main()
