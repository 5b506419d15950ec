"""Drives every operation of a generated package's mock, each request under a deadline.

The parent (a test) plans the requests from the spec: for each operation one that should be
valid (parameters and body synthesized from the spec's request schemas, credentials for its
security), one without its body, and bodies nested far deeper than any schema wants. A child
process (`python tests/mock_driver.py OUT PACKAGE PLAN`) serves the package's mock app and sends
them one by one, printing one JSON line per answer; the parent kills it when an answer is late,
so a request that spins (or a crash) fails the test naming the request instead of hanging it.
"""

from __future__ import annotations

import base64
import json
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
STARTUP_SECONDS = 120.0  # importing the package and building its app


@dataclass
class Planned:
    """One request: what it is for, and what the child sends."""

    label: str
    method: str
    path: str  # the spec's path template
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    content: str = ""  # base64 of the body


@dataclass
class Answered:
    request: Planned
    status: int | None  # None: no answer in time, or the child died
    seconds: float
    problem: str = ""


# -- planning (parent) ----------------------------------------------------------------------------


class Planner:
    """Builds requests for the operations of a (normalized) document."""

    def __init__(self, document: dict[str, Any]) -> None:
        from codegen.runtime.dialect import for_direction
        from codegen.runtime.mock import Shapes
        from codegen.runtime.verify import mock_validator

        self.document = document
        # The mock's own verifier: the spec's long examples under backtracking patterns are
        # not run through `re` (see codegen/runtime/verify.py).
        self.validator = mock_validator(for_direction(document, "request"))
        self.shapes = Shapes(self.resolve)

    def resolve(self, node: Any) -> Any:
        from codegen.load import resolve_pointer

        for _ in range(64):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#")):
                break
            node = resolve_pointer(self.document, node["$ref"][1:])
        return node

    def is_valid(self, schema: Any, value: Any) -> bool:
        try:
            return bool(self.validator.evolve(schema=schema).is_valid(value))
        except Exception:  # noqa: BLE001
            return False

    def value(self, schema: Any, seed: str) -> Any:
        from codegen.runtime.mock import Synthesizer

        return Synthesizer(self.resolve, self.is_valid, seed, shapes=self.shapes).find(schema)[0]

    def operations(self) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
        found = []
        for path, item in (self.document.get("paths") or {}).items():
            item = self.resolve(item)
            for method in METHODS:
                if isinstance(item.get(method), dict):
                    found.append((method, path, item, item[method]))
        return found

    def plan(self, wanted: Callable[[str, str], bool] | None = None) -> list[Planned]:
        """Requests for every operation (`wanted(method, path)`, when given)."""
        planned: list[Planned] = []
        for method, path, item, op in self.operations():
            if wanted is not None and not wanted(method, path):
                continue
            name = f"{method.upper()} {path}"
            url, headers = self._request_line(path, item, op)
            body = self.resolve(op.get("requestBody")) if op.get("requestBody") else None
            content = body.get("content") if isinstance(body, dict) and isinstance(body.get("content"), dict) else {}
            if content:
                media_type, media = next(iter(content.items()))
                data, extra = self._body(media_type, media if isinstance(media, dict) else {})
                planned.append(Planned(f"{name} (valid)", method, path, url, {**headers, **extra}, _b64(data)))
                planned.append(Planned(f"{name} (no body)", method, path, url, headers))
                if any("json" in m for m in content):
                    json_type = next(m for m in content if "json" in m)
                    for label, deep in (("objects 3,000 deep", b'{"a":' * 3000 + b"1" + b"}" * 3000), ("arrays 50,000 deep", b"[" * 50_000 + b"]" * 50_000)):
                        planned.append(Planned(f"{name} ({label})", method, path, url, {**headers, "content-type": json_type}, _b64(deep)))
            else:
                planned.append(Planned(f"{name} (valid)", method, path, url, headers))
        return planned

    def _request_line(self, path: str, item: dict[str, Any], op: dict[str, Any]) -> tuple[str, dict[str, str]]:
        servers = op.get("servers") or item.get("servers") or self.document.get("servers")
        url = _base_path(servers) + path
        query: list[tuple[str, str]] = []
        headers: dict[str, str] = {}
        cookies: list[str] = []
        params = {}
        for p in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
            p = self.resolve(p)
            if isinstance(p, dict):
                params[(p.get("name"), p.get("in"))] = p
        for (name, location), p in params.items():
            if location != "path" and not p.get("required"):
                continue
            schema, as_json = p.get("schema", {}), False
            if isinstance(p.get("content"), dict) and p["content"]:
                schema, as_json = (next(iter(p["content"].values())) or {}).get("schema", {}), True
            value = self.value(schema, str(name))
            if as_json:
                text = json.dumps(value)
                pairs = [(str(name), text)]
            else:
                text, pairs = _styled(str(name), value, p.get("style"), p.get("explode"), str(location))
            if location == "path":
                url = url.replace("{" + str(name) + "}", quote(text, safe=",.;="))
            elif location == "query":
                query.extend(pairs)
            elif location == "header":
                headers[str(name)] = text
            elif location == "cookie":
                cookies.append(f"{name}={quote(text)}")
        self._credentials(op, query, headers, cookies)
        if cookies:
            headers["cookie"] = "; ".join(cookies)
        url = re.sub(r"\{[^}]+\}", "1", url)
        return url + ("?" + urlencode(query) if query else ""), headers

    def _credentials(self, op: dict[str, Any], query: list[tuple[str, str]], headers: dict[str, str], cookies: list[str]) -> None:
        requirements = op.get("security", self.document.get("security")) or []
        if not requirements or any(not r for r in requirements):
            return
        schemes = (self.document.get("components") or {}).get("securitySchemes") or {}
        for name in requirements[0]:
            scheme = self.resolve(schemes.get(name) or {})
            kind = scheme.get("type")
            if kind == "apiKey":
                where = scheme.get("in")
                if where == "header":
                    headers[scheme["name"]] = "key"
                elif where == "query":
                    query.append((scheme["name"], "key"))
                else:
                    cookies.append(f"{scheme['name']}=key")
            elif kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
                headers["authorization"] = "Basic " + base64.b64encode(b"user:secret").decode()
            elif kind == "http":
                headers["authorization"] = f"{str(scheme.get('scheme', 'Bearer')).capitalize()} token"
            else:
                headers["authorization"] = "Bearer token"

    def _body(self, media_type: str, media: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        from codegen.runtime.bodies import encode_xml, xml_name

        base = media_type.split(";")[0].strip().lower()
        schema = media.get("schema", {})
        if base == "*/*" or base.endswith("/*"):
            base = "application/json"
        headers = {"content-type": base}
        if "json" in base:
            return json.dumps(self.value(schema, "body")).encode(), headers
        if base.startswith("text/"):
            value = self.value(schema, "body")
            return (value if isinstance(value, str) else json.dumps(value)).encode(), headers
        if base == "application/x-www-form-urlencoded":
            value = self.value(schema, "body")
            pairs = []
            for key, item in (value if isinstance(value, dict) else {}).items():
                for each in item if isinstance(item, list) else [item]:
                    pairs.append((key, each if isinstance(each, str) else json.dumps(each)))
            return urlencode(pairs).encode(), headers
        if base == "multipart/form-data":
            value = self.value(schema, "body")
            boundary = "codegen-driver-boundary"
            chunks = []
            for key, item in (value if isinstance(value, dict) else {}).items():
                for each in item if isinstance(item, list) else [item]:
                    text = each if isinstance(each, str) else json.dumps(each)
                    kind = "text/plain" if isinstance(each, str) else "application/json"
                    chunks.append(
                        f'--{boundary}\r\ncontent-disposition: form-data; name="{key}"\r\ncontent-type: {kind}\r\n\r\n{text}\r\n'
                    )
            chunks.append(f"--{boundary}--\r\n")
            return "".join(chunks).encode(), {"content-type": f"multipart/form-data; boundary={boundary}"}
        if "xml" in base:
            return encode_xml(self.value(schema, "body"), xml_name(schema)), headers
        return b"data", headers


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _base_path(servers: Any) -> str:
    if not servers:
        return ""
    variables = servers[0].get("variables") or {}
    url = re.sub(r"\{([^}]*)\}", lambda m: str((variables.get(m.group(1)) or {}).get("default", "")), servers[0]["url"])
    return urlsplit(url).path.rstrip("/")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return json.dumps(value)


def _styled(name: str, value: Any, style: Any, explode: Any, location: str) -> tuple[str, list[tuple[str, str]]]:
    """A parameter's text (path, header, cookie) and query pairs, in its style (roughly)."""
    style = style or ("form" if location in ("query", "cookie") else "simple")
    explode = explode if isinstance(explode, bool) else style == "form"
    if isinstance(value, list):
        items = [_text(v) for v in value]
        pairs = [(name, v) for v in items] if explode else [(name, {"spaceDelimited": " ", "pipeDelimited": "|"}.get(style, ",").join(items))]
        text = ",".join(items)
    elif isinstance(value, dict):
        if style == "deepObject":
            pairs = [(f"{name}[{k}]", _text(v)) for k, v in value.items()]
        elif explode:
            pairs = [(k, _text(v)) for k, v in value.items()]
        else:
            pairs = [(name, ",".join(f"{k},{_text(v)}" for k, v in value.items()))]
        text = ",".join(f"{k}={_text(v)}" if explode else f"{k},{_text(v)}" for k, v in value.items())
    else:
        text = _text(value)
        pairs = [(name, text)]
    if style == "label":
        text = "." + text
    elif style == "matrix":
        text = f";{name}={text}"
    return text, pairs


# -- driving (parent) --------------------------------------------------------------------------


def drive(out: Path, package: str, planned: list[Planned], deadline: float, work: Path) -> list[Answered]:
    """Send `planned` to the mock of `package` (generated into `out`) in a child process, each
    request within `deadline` seconds; the child is killed at the first late answer."""
    plan_file = work / f"{package}-plan.json"
    plan_file.write_text(json.dumps([asdict(p) for p in planned]), encoding="utf-8")
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), str(out), package, str(plan_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    answered: list[Answered] = []
    try:
        assert child.stdout is not None
        ready = _line(child, STARTUP_SECONDS)
        if ready != "ready":
            raise AssertionError(f"the mock of {package} did not start: {ready!r} {_rest(child)}")
        for request in planned:
            start = time.monotonic()
            line = _line(child, deadline)
            took = time.monotonic() - start
            if line is None:
                problem = "died" if child.poll() is not None else f"no answer within {deadline} s"
                answered.append(Answered(request, None, took, f"{problem} {_rest(child)}".strip()))
                break
            record = json.loads(line)
            answered.append(Answered(request, record["status"], record["seconds"]))
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
    return answered


def _line(child: subprocess.Popen[str], seconds: float) -> str | None:
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], seconds)
    if not ready:
        return None
    line = child.stdout.readline()
    return line.strip() if line else None


def _rest(child: subprocess.Popen[str]) -> str:
    if child.poll() is None:
        child.kill()
    try:
        _, err = child.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        return ""
    return f"(exit {child.returncode}) {err[-2000:]}" if err else f"(exit {child.returncode})"


# -- the child ------------------------------------------------------------------------------


def main(out: str, package: str, plan_file: str) -> None:
    import importlib
    import logging

    sys.path.insert(0, out)
    logging.disable(logging.WARNING)  # the mock's own warnings are expected here
    from fastapi.testclient import TestClient

    app = importlib.import_module(package).create_app(mock=True)
    client = TestClient(app, raise_server_exceptions=False)
    app.state.codegen.prepare_mock()  # what a served mock does before its first request
    client.get("/openapi.json")
    planned = json.loads(Path(plan_file).read_text(encoding="utf-8"))
    print("ready", flush=True)
    for request in planned:
        start = time.monotonic()
        response = client.request(
            request["method"].upper(),
            request["url"],
            headers=request["headers"],
            content=base64.b64decode(request["content"]) if request["content"] else None,
        )
        print(json.dumps({"status": response.status_code, "seconds": round(time.monotonic() - start, 3)}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
