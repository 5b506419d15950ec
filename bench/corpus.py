"""`make corpus`: the generator on every public OpenAPI description of APIs-guru's directory.

For each document (all 2,639, or a seeded sample, or a shard): generate (strictly, then with
`--lenient` where the strict run refuses), write and import the package, build
`create_app(mock=True)`, and send each operation one request built from the document itself
(path parameters, required parameters, credentials and the body filled with values valid for
their schemas). A request counts as reaching its operation when the runtime says that operation
handled it and its status is one the operation declares (or a 4xx); a routing 404/405, another
operation, a 5xx or a request over its time limit is a failure.

Each document runs in a process of its own, forked from this one once the generator is imported:
a crash, a hang or a runaway allocation costs that document only. Results go to a JSON file
(counts per failure class, each failing document with its first error, generation time and
peak memory per document); `--summary` prints the Markdown table the README keeps.

    make corpus                          # the whole directory
    make corpus N=100 SEED=1             # a seeded random sample
    .venv/bin/python bench/corpus.py --shard 2/4 --jobs 2 --out results.json
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import os
import random
import re
import resource
import select
import signal
import statistics
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import directory

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
REQUEST_SECONDS = 10.0  # one request's time limit
DOCUMENT_SECONDS = 900.0  # one document's, generation included


class RequestTimeout(BaseException):
    """A request ran past its limit (a BaseException: no `except Exception` of the app eats it)."""


# -- one document, in its own process ----------------------------------------------------------


def check_document(spec: Path, work: Path) -> dict[str, Any]:
    """Generate, import, serve and drive one document; a result record (never raises)."""
    result: dict[str, Any] = {"stage": "generate", "failure": None, "error": None}
    try:
        _check(spec, work, result)
    except RequestTimeout:
        result["failure"] = result["failure"] or "timeout"
    except BaseException as exc:  # noqa: BLE001 - every failure is a result
        result["failure"] = result["failure"] or f"{result['stage']}: {type(exc).__name__}"
        result["error"] = result["error"] or _first_line(exc)
        result["traceback"] = traceback.format_exc()[-4000:]
    return result


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]


def _generate(spec: Path, work: Path, lenient: bool) -> tuple[str, dict[str, str], tuple[Any, ...]]:
    from codegen.cli import build_files
    from codegen.config import load_config

    config = load_config(
        work, {"spec": str(spec), "out": str(work / "out"), "package": "corpus_api"}
    )
    config = dataclasses.replace(config, lenient=lenient)
    return build_files(config, use_cache=False, jobs=1)


def _check(spec: Path, work: Path, result: dict[str, Any]) -> None:
    from codegen.errors import SpecError, SpecErrors
    from codegen.write import write

    started = time.perf_counter()
    try:
        package, files, _ = _generate(spec, work, lenient=False)
        result["mode"] = "strict"
    except (SpecError, SpecErrors) as exc:
        errors = exc.errors if isinstance(exc, SpecErrors) else [exc]
        result["strict_error"] = _spec_error_text(errors[0])
        result["strict_class"] = _error_class(errors[0])
        try:
            package, files, warnings = _generate(spec, work, lenient=True)
        except (SpecError, SpecErrors) as again:
            errors = again.errors if isinstance(again, SpecErrors) else [again]
            result["failure"] = "refused: " + _error_class(errors[0])
            result["error"] = _spec_error_text(errors[0])
            return
        result["mode"] = "lenient"
        result["warnings"] = len(warnings)
    result["generate_seconds"] = round(time.perf_counter() - started, 3)
    result["stage"] = "import"
    write(work / "pkg" / package, files)
    sys.path.insert(0, str(work / "pkg"))
    import importlib

    module: Any = importlib.import_module(package)
    result["stage"] = "app"
    app = module.create_app(mock=True)
    result["stage"] = "requests"
    _drive(spec, app, result)


def _spec_error_text(error: Any) -> str:
    return f"#{error.pointer}: {error.message}"[:500]


def _error_class(error: Any) -> str:
    """A spec error's kind: its message without the names and values that vary."""
    import re

    text = re.sub(r"'[^']*'|\"[^\"]*\"|\{[^}]*\}|\d+", "…", str(error.message).splitlines()[0])
    return text[:120]


# -- requests built from the document ----------------------------------------------------------


class Requests:
    """One valid request per operation, built from the document as written (not from the IR)."""

    def __init__(self, document: dict[str, Any], version: str) -> None:
        from codegen.runtime.dialect import for_direction, normalize_document
        from codegen.runtime.params import SchemaStore
        from codegen.runtime.reference import reference_validator

        self.normalized = normalize_document(document, version)
        self.store = SchemaStore(self.normalized)
        import re

        self.templates = [
            (key, re.compile(re.sub(r"\\\{[^{}]*\\\}", "[^/]+", re.escape(key))))
            for key in (
                re.split(r"[?#]", k, maxsplit=1)[0] for k in (self.normalized.get("paths") or {})
            )
        ]
        self.validator = reference_validator(for_direction(self.normalized, "request"))

    def resolve(self, node: Any) -> Any:
        return self.store.resolve(node)

    def is_valid(self, schema: Any, instance: Any) -> bool:
        try:
            return bool(self.validator.evolve(schema=schema).is_valid(instance))
        except Exception:  # noqa: BLE001 - an unresolvable schema vouches for nothing
            return False

    def value(self, schema: Any, seed: str, variant: int = 0) -> Any:
        from codegen.runtime.mock import Synthesizer

        return Synthesizer(self.resolve, self.is_valid, seed).find(schema, variant)[0]

    def operations(self) -> list[dict[str, Any]]:
        import re

        from codegen.ir import server_path
        from codegen.runtime.application import _shape

        doc = self.normalized
        found = []
        for key, raw_item in (doc.get("paths") or {}).items():
            item = self.resolve(raw_item)
            if not isinstance(item, dict):
                continue
            for method in [m for m in item if m in HTTP_METHODS]:
                op = item[method]
                if not isinstance(op, dict):
                    continue
                servers = op.get("servers") or item.get("servers") or doc.get("servers")
                found.append(
                    {
                        "key": key,
                        "method": method,
                        "operation_id": op.get("operationId") or f"{method}_{key}",
                        "request": self.request(key, method, item, op, server_path(servers) or ""),
                        "statuses": [str(s).upper() for s in (op.get("responses") or {})],
                        # paths of one shape are one route (OpenAPI calls them identical)
                        "route": f"{method.upper()} {_shape(re.split(r'[?#]', key)[0])}",
                    }
                )
        return found

    def parameters(self, item: dict[str, Any], op: dict[str, Any]) -> list[dict[str, Any]]:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for source in (item, op):
            for raw in source.get("parameters") or []:
                p = self.resolve(raw)
                if isinstance(p, dict) and "name" in p and "in" in p:
                    merged[(str(p["name"]), str(p["in"]))] = p
        return list(merged.values())

    def fill(
        self,
        item: dict[str, Any],
        op: dict[str, Any],
        seed: str,
        attempt: int,
        path_values: dict[str, str],
        query: list[tuple[str, str]],
        headers: dict[str, str],
        cookies: dict[str, str],
    ) -> None:
        """Values for the path parameters and the required others (`attempt` varies the path's)."""
        for p in self.parameters(item, op):
            location, name = p["in"], str(p["name"])
            if location != "path" and not p.get("required"):
                continue
            if location == "header" and name.lower() in IGNORED_HEADERS:
                continue  # OpenAPI ignores them; the request's own say what it sends
            schema, content = p.get("schema", {}), None
            if isinstance(p.get("content"), dict) and p["content"]:
                content, media = next(iter(p["content"].items()))
                schema = (media or {}).get("schema", {})
            value = self.value(
                schema, f"{seed} {location} {name}", attempt if location == "path" else 0
            )
            style = p.get("style") or {"path": "simple", "header": "simple"}.get(location, "form")
            explode = bool(p.get("explode", style == "form"))
            if content is not None:
                text = json.dumps(value, separators=(",", ":"))
                encoded: list[tuple[str, str]] = [(name, text)]
            else:
                encoded = serialize(name, value, style, explode)
            if location == "path":
                path_values[name] = "".join(
                    quote(v, safe="") if n == name else n for n, v in encoded
                )
            elif location == "query":
                query += encoded
            elif location == "header":
                headers[name] = encoded[0][1] if encoded else ""
            elif location == "cookie":
                cookies.update(encoded)

    def shadowed(self, key: str, path: str) -> bool:
        """Whether a more literal path of the document also matches `path` (it would win)."""
        from urllib.parse import unquote

        from codegen.runtime.application import _specificity

        mine = _specificity(key)
        path = "/".join(unquote(segment) for segment in path.split("/"))  # as the server reads it
        return any(
            regex.fullmatch(path) and _specificity(other) < mine
            for other, regex in self.templates
            if other != key
        )

    def request(
        self, key: str, method: str, item: dict[str, Any], op: dict[str, Any], base: str
    ) -> dict[str, Any]:
        import re

        path_part = re.split(r"[?#]", key, maxsplit=1)[0]
        fixed_query = ""
        if "?" in key:
            fixed_query = key.split("?", 1)[1].split("#", 1)[0]
        seed = f"{method} {key}"
        path_values: dict[str, str] = {}
        query: list[tuple[str, str]] = []
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        for attempt in range(8):
            path_values.clear()
            self.fill(item, op, seed, attempt, path_values, query, headers, cookies)
            path = re.sub(r"\{([^{}]*)\}", lambda m: path_values.get(m.group(1), "x"), path_part)
            # An empty path value cannot be sent (`/offers/` is another path); nor one that a
            # more literal path of the document would catch.
            if all(path_values.values()) and not self.shadowed(path_part, path):
                break
            query.clear()
            headers.clear()
            cookies.clear()
        fixed = re.sub(
            r"\{([^{}]*)\}", lambda m: quote(path_values.get(m.group(1), "x"), safe=""), fixed_query
        )
        fixed = "&".join(x for x in (fixed, self.labels(key, item, op)) if x)
        self.credentials(op, headers, query, cookies)
        body, content_type = self.body(op.get("requestBody"), seed)
        if content_type:
            headers["content-type"] = content_type
        qs = "&".join(x for x in (fixed, urlencode(query, quote_via=quote)) if x)
        return {
            "method": method.upper(),
            "url": ("/" + quote(base.strip("/"), safe="/:@!$&'()*+,;=") if base.strip("/") else "")
            + (path if path.startswith("/") else "/" + path)
            + ("?" + qs if qs else ""),
            "headers": headers,
            "cookies": cookies,
            "body": body,
        }

    def labels(self, key: str, item: dict[str, Any], op: dict[str, Any]) -> str:
        """The labels after `#` that no parameter declares (`#disambiguation_dummy`,
        `/files/{id}#add_shared_link`), as the query flags the server prefers an operation by."""
        from codegen.ir import split_path_key

        split = split_path_key(key)
        declared = {
            (str(p["in"]), str(p["name"]).lower() if p["in"] == "header" else str(p["name"]))
            for p in self.parameters(item, op)
        }
        flags = []
        for k in split[1] if split else ():
            if k.sent or k.variable is not None or ("query", k.name) in declared or ("header", k.name.lower()) in declared:
                continue
            flags.append(quote(k.name, safe="") + ("" if k.value is None else "=" + quote(k.value, safe="")))
        return "&".join(flags)

    def credentials(
        self,
        op: dict[str, Any],
        headers: dict[str, str],
        query: list[tuple[str, str]],
        cookies: dict[str, str],
    ) -> None:
        requirements = op.get("security", self.normalized.get("security")) or []
        schemes = (self.normalized.get("components") or {}).get("securitySchemes") or {}
        for requirement in requirements[:1]:
            for name in requirement or {}:
                scheme = self.resolve(schemes.get(name)) or {}
                kind = scheme.get("type")
                if kind == "apiKey":
                    where, key = scheme.get("in"), str(scheme.get("name", ""))
                    if where == "header":
                        headers[key] = "corpus-key"
                    elif where == "query":  # in place of a parameter of the same name
                        query[:] = [(k, v) for k, v in query if k != key] + [(key, "corpus-key")]
                    elif where == "cookie":
                        cookies[key] = "corpus-key"
                elif kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
                    headers["authorization"] = (
                        "Basic " + base64.b64encode(b"corpus:secret").decode()
                    )
                elif kind in ("http", "oauth2", "openIdConnect"):
                    headers["authorization"] = (
                        f"{str(scheme.get('scheme') or 'Bearer').title()} corpus-token"
                    )

    def body(self, raw: Any, seed: str) -> tuple[bytes | None, str | None]:
        body = self.resolve(raw)
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("content"), dict)
            or not body["content"]
        ):
            return None, None
        content = body["content"]
        media_type = next((m for m in content if _is_json(m)), None) or next(iter(content))
        media = content[media_type] if isinstance(content[media_type], dict) else {}
        base = media_type.split(";")[0].strip().lower()
        schema = media.get("schema", {})
        if base.startswith("multipart/"):
            value = self.value(schema, seed + " body")
            return multipart(value if isinstance(value, dict) else {})
        if _is_json(base) or base == "*/*":
            value = self.value(schema, seed + " body")
            return json.dumps(value).encode(), "application/json" if base == "*/*" else media_type
        if base == "application/x-www-form-urlencoded":
            value = self.value(schema, seed + " body")
            pairs = [
                pair
                for k, v in (value.items() if isinstance(value, dict) else ())
                for pair in serialize(k, v, "form", True)
            ]
            return urlencode(pairs).encode(), media_type
        if base.endswith("xml"):
            from codegen.runtime.bodies import encode_xml, xml_name

            value = self.value(schema, seed + " body")
            return encode_xml(value, xml_name(self.resolve(schema))), media_type
        if base.startswith("text/"):
            value = self.value(schema or {"type": "string"}, seed + " body")
            return (value if isinstance(value, str) else json.dumps(value)).encode(), media_type
        return b"corpus", media_type


def _is_json(media_type: str) -> bool:
    base = media_type.split(";")[0].strip().lower()
    return base == "application/json" or (
        base.startswith("application/") and base.endswith("+json")
    )


def text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"))


def serialize(name: str, value: Any, style: str, explode: bool) -> list[tuple[str, str]]:
    """(name, text) pairs of a parameter value in an OpenAPI style; a path value's pieces are
    joined by the caller (pairs named like the parameter are its values, others literal)."""
    if style == "deepObject" and isinstance(value, dict):
        return [(f"{name}[{k}]", text_of(v)) for k, v in value.items()]
    if isinstance(value, list):
        items = [text_of(v) for v in value]
        if style == "form" and explode:
            return [(name, v) for v in items]
        sep = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(style, ",")
        if style == "label":
            return [("", "."), (name, ("." if explode else ",").join(items))]
        if style == "matrix":
            if explode:
                return [("", "".join(f";{name}={v}" for v in items))]
            return [("", f";{name}="), (name, ",".join(items))]
        return [(name, sep.join(items))]
    if isinstance(value, dict):
        pairs = [(str(k), text_of(v)) for k, v in value.items()]
        if style == "form" and explode:
            return pairs
        if explode:
            joined = ",".join(f"{k}={v}" for k, v in pairs)
        else:
            joined = ",".join(f"{k},{v}" for k, v in pairs)
        if style == "label":
            return [("", "."), (name, joined)]
        if style == "matrix":
            return (
                [("", f";{name}="), (name, joined)]
                if not explode
                else [("", ";" + joined.replace(",", ";"))]
            )
        return [(name, joined)]
    text = text_of(value)
    if style == "label":
        return [("", "."), (name, text)]
    if style == "matrix":
        return [("", f";{name}="), (name, text)]
    return [(name, text)]


def multipart(value: dict[str, Any]) -> tuple[bytes, str]:
    boundary = "corpus-boundary-7f3a"
    parts = []
    for key, item in value.items():
        text = item if isinstance(item, str) else json.dumps(item)
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{text}\r\n'
        )
    return (
        "".join(parts) + f"--{boundary}--\r\n"
    ).encode(), f"multipart/form-data; boundary={boundary}"


def _drive(spec: Path, app: Any, result: dict[str, Any]) -> None:
    import asyncio

    import httpx
    from codegen.load import load

    document = load(spec, validate=False)
    requests = Requests(document.data, document.version)
    operations = requests.operations()
    result["operations"] = len(operations)
    outcomes: Counter[str] = Counter()
    failures: list[str] = []

    def on_alarm(signum: int, frame: Any) -> None:
        raise RequestTimeout

    signal.signal(signal.SIGALRM, on_alarm)
    seen: dict[str, str] = {}
    routes = {op["operation_id"]: op["route"] for op in operations}

    class Spy:
        """Records which operation the runtime ran for each request."""

        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            try:
                await self.inner(scope, receive, send)
            finally:
                seen["operation"] = scope.get("codegen.operation", "")

    async def run() -> None:
        transport = httpx.ASGITransport(app=Spy(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://corpus.test") as client:
            for op in operations:
                req = op["request"]
                seen.clear()
                signal.setitimer(signal.ITIMER_REAL, REQUEST_SECONDS)
                try:
                    headers = dict(req["headers"])
                    if req["cookies"]:
                        headers["cookie"] = "; ".join(
                            f"{k}={quote(v, safe='')}" for k, v in req["cookies"].items()
                        )
                    request = client.build_request(
                        req["method"], req["url"], headers=headers, content=req["body"]
                    )
                    response = await client.send(request, stream=True)
                    raw = b"".join([chunk async for chunk in response.aiter_raw()])
                    await response.aclose()
                except RequestTimeout:
                    outcomes["timeout"] += 1
                    failures.append(
                        f"{op['method'].upper()} {op['key']}: no answer within {REQUEST_SECONDS:g} s"
                    )
                    continue
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                outcome = judge(op, response.status_code, seen.get("operation"), routes)
                if outcome.startswith("server error") and b"the mock found no valid response body" in raw:
                    outcome = "the mock found no valid response body"  # its declared error instead
                outcomes[outcome] += 1
                if outcome not in PASSING:
                    failures.append(
                        f"{op['method'].upper()} {op['key']} -> {response.status_code}: {outcome}: {raw[:200].decode('utf-8', 'replace')}"
                    )

    asyncio.run(run())
    result["outcomes"] = dict(outcomes)
    bad = {k: v for k, v in outcomes.items() if k not in PASSING}
    if bad:
        worst = max(bad, key=lambda k: (bad[k], k))
        result["failure"] = f"request: {worst}"
        result["error"] = failures[0]
        result["failures"] = failures[:20]
    result["stage"] = "done"


IGNORED_HEADERS = ("accept", "content-type", "authorization")
SAME_PATH = "same path in the document"
PASSING = ("ok", "rejected", SAME_PATH)


def judge(op: dict[str, Any], status: int, reached: str | None, routes: dict[str, str]) -> str:
    """ok: the declared status; rejected: a 4xx of that operation; else what went wrong.

    Operations on paths OpenAPI calls identical (`/a/{id}` and `/a/{name}`, one method: the
    strict run refuses the document, `--lenient` serves them as one route and warns) may be
    indistinguishable by any request: one that reached another of them, which answered it as
    declared, is `same path in the document`, counted apart; one the other refused is a failure
    (something in the request, its body, told them apart).
    """
    declared = op["statuses"]
    if not reached:
        return f"not routed ({status})"
    if reached != op["operation_id"]:
        if routes.get(reached) == op["route"] and status < 400:
            return SAME_PATH
        return "reached another operation"
    if status >= 500 and str(status) not in declared and f"{str(status)[0]}XX" not in declared:
        return f"server error ({status})"
    if str(status) in declared or f"{str(status)[0]}XX" in declared or "DEFAULT" in declared:
        return "ok" if status < 400 or str(status) in declared else "rejected"
    if 400 <= status < 500:
        return "rejected"
    return f"undeclared status ({status})"


# -- schemathesis against the mock ------------------------------------------------------------

FUZZ_EXAMPLES = 5
FUZZ_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
)
# schemathesis's own errors that mean it built no request (not a finding against the server)
FUZZER_LIMITS = ("Unsatisfiable", "SerializationNotPossible")
# Findings that mean a response breaks its own document, or the server failed.
BROKEN_RESPONSE = {
    "Server error",
    "Response violates schema",
    "Undocumented Content-Type",
    "Missing required header",
    "Missing header not rejected",
    "Undocumented status code",
    "Unsupported method incorrect response",
    "Allow header",
    "SSE event violates schema",
    "Malformed media type",
}


def fuzz_auth(document: dict[str, Any]) -> dict[str, Any]:
    """Credentials for each security scheme (the mock checks their presence, not their value),
    as schemathesis's OpenAPI-aware auth configuration."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    auth: dict[str, Any] = {}
    for name, scheme in schemes.items():
        kind = scheme.get("type") if isinstance(scheme, dict) else None
        if kind == "apiKey":
            auth[name] = {"api_key": "corpus-key"}
        elif kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            auth[name] = {"username": "corpus", "password": "secret"}
        elif kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            auth[name] = {"bearer": "corpus-token"}
    return auth


def fuzz_config(document: dict[str, Any]) -> Any:
    from schemathesis.config import SchemathesisConfig

    auth = fuzz_auth(document)
    return SchemathesisConfig.from_dict(
        {
            **({"auth": {"openapi": auth}} if auth else {}),
            "seed": 1,
            "continue-on-failure": True,
            "suppress-health-check": [
                "too_slow",
                "filter_too_much",
                "data_too_large",
                "large_base_example",
            ],
            "cache": {"enabled": False},
            "generation": {"max-examples": FUZZ_EXAMPLES, "mode": "all", "database": "none"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in FUZZ_CHECKS}},
            "phases": {
                "examples": {"enabled": True, "fill-missing": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "request-timeout": REQUEST_SECONDS,
        }
    )


def _case_data(case: Any) -> dict[str, Any]:
    """What schemathesis sent, as JSON-able data (for triage after the run)."""
    from schemathesis.core import NOT_SET

    def plain(value: Any) -> Any:
        return (
            None
            if value is NOT_SET or value is None
            else json.loads(json.dumps(value, default=repr))
        )

    return {
        "method": case.method,
        "path": case.path,
        "path_parameters": plain(case.path_parameters),
        "query": plain(case.query),
        "headers": plain(case.headers),
        "cookies": plain(case.cookies),
        "body": plain(case.body),
        "has_body": case.body is not NOT_SET,
        "media_type": case.media_type,
    }


def fuzz_document(spec: Path, work: Path) -> dict[str, Any]:
    """Generate and serve the document's mock on 127.0.0.1; run schemathesis against it."""
    result: dict[str, Any] = {"stage": "generate", "failure": None, "error": None}
    try:
        _fuzz(spec, work, result)
    except BaseException as exc:  # noqa: BLE001
        result["failure"] = result["failure"] or f"{result['stage']}: {type(exc).__name__}"
        result["error"] = result["error"] or _first_line(exc)
        result["traceback"] = traceback.format_exc()[-4000:]
    return result


def _fuzz(spec: Path, work: Path, result: dict[str, Any]) -> None:
    import importlib

    from codegen.errors import SpecError, SpecErrors
    from codegen.write import write

    try:
        package, files, _ = _generate(spec, work, lenient=False)
    except (SpecError, SpecErrors):
        package, files, _ = _generate(spec, work, lenient=True)
    write(work / "pkg" / package, files)
    sys.path.insert(0, str(work / "pkg"))
    module: Any = importlib.import_module(package)
    import triage

    wire = triage.Wire()
    wire.install()
    app = module.create_app(mock=True, base_path="")
    reference = triage.Reference(app.state.codegen)
    result["stage"] = "schemathesis"
    sys.path.insert(0, str(ROOT / "tests"))
    import schemathesis
    from conftest import serve
    from schemathesis.engine import events, from_schema

    findings: list[dict[str, Any]] = []
    cases = 0
    with serve(app) as url:
        document = json.loads(json.dumps(module._spec.DOCUMENT))
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=fuzz_config(document))
        schema.config.update(base_url=url)
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                recorder = event.recorder
                cases += len(recorder.cases)
                for case_id, nodes in recorder.checks.items():
                    for node in nodes:
                        if node.failure_info is None:
                            continue
                        failure = node.failure_info.failure
                        response = recorder.find_response(case_id=case_id)
                        case = recorder.cases[case_id].value
                        finding = {
                            "phase": str(event.phase),
                            "operation": recorder.label,
                            "check": node.name,
                            "title": failure.title,
                            "status": response.status_code if response is not None else None,
                            "message": str(failure.message)[:600],
                            "curl": node.failure_info.code_sample[:1500],
                            "mode": str(case.meta.generation.mode) if case.meta else None,
                            "negative": sorted(
                                str(loc)
                                for loc, c in (case.meta.components.items() if case.meta else ())
                                if c.mode.is_negative
                            ),
                            "case": _case_data(case),
                            "response_body": _text(response),
                        }
                        finding["excused"] = triage.triage(finding, wire, reference, case.id)
                        findings.append(finding)
            elif isinstance(event, events.NonFatalError):
                message = str(event.info)
                cannot = next((kind for kind in FUZZER_LIMITS if kind in message), None)
                findings.append(
                    {
                        "phase": str(event.phase),
                        "operation": event.label,
                        "title": "error",
                        "message": message[:600],
                        # schemathesis could not build a request: nothing reached the server
                        "excused": f"schemathesis could not generate a request ({cannot})" if cannot else None,
                    }
                )
            elif isinstance(event, events.FatalError):
                raise event.exception
    result["cases"] = cases
    ours = [f for f in findings if not f.get("excused")]
    excused = [f for f in findings if f.get("excused")]
    result["findings"] = ours[:200]
    result["finding_count"] = len(ours)
    # One example of each reason, with how often it excused a finding.
    reasons: dict[str, dict[str, Any]] = {}
    for f in excused:
        key = f"{f['title']}: {_reason_kind(f['excused'])}"
        entry = reasons.setdefault(
            key,
            {"count": 0, "example": {k: f.get(k) for k in ("operation", "status", "excused", "case")}},
        )
        entry["count"] += 1
    result["excused"] = reasons
    titles = Counter(f["title"] for f in ours)
    result["titles"] = dict(titles)
    result["stage"] = "done"
    if ours:
        worst = max(titles, key=lambda t: (t in BROKEN_RESPONSE or t == "error", titles[t], t))
        result["failure"] = f"schemathesis: {worst}"
        result["error"] = next(f for f in ours if f["title"] == worst)["message"][:300]


def _text(response: Any) -> str:
    content = getattr(response, "content", None) if response is not None else None
    if isinstance(content, bytes):
        return content[:2000].decode("utf-8", "replace")
    return ""


def _reason_kind(reason: str) -> str:
    """A reason without its particulars (values, names), to count reasons alike."""
    return re.sub(r"\(.*|: .*|'[^']*'| [0-9]{3},", "", reason)[:120]


# -- the run: a process per document -----------------------------------------------------------


def preload() -> None:
    """Import what every document needs once, before forking."""
    import httpx  # noqa: F401
    import jsonschema  # noqa: F401
    from codegen import cli, ir, load, write  # noqa: F401
    from codegen.render import parallel

    parallel.prepare()
    import codegen.render.renderer
    import codegen.runtime  # noqa: F401


class Child:
    """One document being checked in a forked process."""

    def __init__(self, api: Path, name: str, timeout: float, check: Any = None) -> None:
        self.name = name
        self.started = time.perf_counter()
        self.deadline = self.started + timeout
        self.timeout = timeout
        self.chunks: list[bytes] = []
        read_end, write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: check, write the result, leave without cleanup
            os.close(read_end)
            code = 0
            try:
                with tempfile.TemporaryDirectory(prefix="codegen-corpus-") as tmp:
                    result = (check or check_document)(api / name, Path(tmp))
                with os.fdopen(write_end, "wb") as out:
                    out.write(json.dumps(result, default=str).encode())
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                os._exit(code)
        os.close(write_end)
        self.fd = read_end
        self.timed_out = False

    def read(self) -> bool:
        """Read what the child wrote; True once it closed its end."""
        chunk = os.read(self.fd, 1 << 20)
        if chunk:
            self.chunks.append(chunk)
            return False
        return True

    def kill(self) -> None:
        self.timed_out = True
        os.kill(self.pid, signal.SIGKILL)

    def result(self) -> dict[str, Any]:
        os.close(self.fd)
        _, status, usage = os.wait4(self.pid, 0)
        result: dict[str, Any]
        if self.timed_out:
            result = {
                "failure": "timeout (document)",
                "error": f"killed after {self.timeout:g} s",
                "stage": "?",
            }
        elif os.WIFSIGNALED(status):
            sig = signal.Signals(os.WTERMSIG(status)).name
            result = {
                "failure": f"crash ({sig})",
                "error": f"the process died of {sig}",
                "stage": "?",
            }
        else:
            try:
                result = json.loads(b"".join(self.chunks))
            except ValueError:
                result = {
                    "failure": "crash (no result)",
                    "error": f"exit status {status}",
                    "stage": "?",
                }
        result["document"] = self.name
        result["seconds"] = round(time.perf_counter() - self.started, 3)
        result["peak_mb"] = round(usage.ru_maxrss / 1024, 1)
        return result


def run_all(
    api: Path, docs: list[str], jobs: int, timeout: float, progress: Any, check: Any = None
) -> list[dict[str, Any]]:
    """Check `docs`, `jobs` at a time, each in a fork of this (single-threaded) process."""
    pending = list(reversed(docs))
    running: dict[int, Child] = {}
    results: list[dict[str, Any]] = []
    while pending or running:
        while pending and len(running) < jobs:
            child = Child(api, pending.pop(), timeout, check)
            running[child.fd] = child
        now = time.perf_counter()
        wait = max(0.0, min(c.deadline for c in running.values()) - now)
        ready, _, _ = select.select(list(running), [], [], min(wait, 1.0))
        finished = [fd for fd in ready if running[fd].read()]
        for fd, child in running.items():
            if fd not in finished and time.perf_counter() > child.deadline:
                child.kill()
                finished.append(fd)
        for fd in finished:
            results.append(running.pop(fd).result())
            progress(results)
    return results


def select_documents(all_docs: list[str], n: int | None, seed: int, shard: str | None) -> list[str]:
    docs = list(all_docs)
    if n is not None and n < len(docs):
        docs = sorted(random.Random(seed).sample(docs, n))
    if shard:
        index, count = (int(x) for x in shard.split("/"))
        docs = docs[index - 1 :: count]
    return docs


def summarize(results: list[dict[str, Any]], baseline_mb: float) -> dict[str, Any]:
    total = len(results)
    passed = [r for r in results if not r.get("failure")]
    classes = Counter(r["failure"] for r in results if r.get("failure"))
    generated = [r for r in results if "generate_seconds" in r]
    times = sorted(r["generate_seconds"] for r in generated)
    peaks = sorted(r["peak_mb"] for r in results)

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0

    return {
        "documents": total,
        "passed": len(passed),
        "generated": len(generated),
        "generated_strict": sum(1 for r in generated if r.get("mode") == "strict"),
        "generated_lenient": sum(1 for r in generated if r.get("mode") == "lenient"),
        "operations": sum(r.get("operations", 0) for r in results),
        "operations_ok": sum((r.get("outcomes") or {}).get("ok", 0) for r in results),
        "operations_rejected": sum((r.get("outcomes") or {}).get("rejected", 0) for r in results),
        "operations_same_path": sum((r.get("outcomes") or {}).get(SAME_PATH, 0) for r in results),
        "documents_same_path": sorted(r["document"] for r in results if (r.get("outcomes") or {}).get(SAME_PATH)),
        "failure_classes": dict(classes.most_common()),
        "strict_refusals": dict(
            Counter(r["strict_class"] for r in results if r.get("strict_class")).most_common()
        ),
        "generate_seconds": {
            "total": round(sum(times), 1),
            "median": round(statistics.median(times), 3) if times else 0,
            "p99": round(pct(times, 0.99), 3),
            "slowest": [
                (r["document"], r["generate_seconds"])
                for r in sorted(generated, key=lambda r: -r["generate_seconds"])[:5]
            ],
        },
        "peak_mb": {
            "baseline": round(baseline_mb, 1),
            "median": round(statistics.median(peaks), 1) if peaks else 0,
            "p99": round(pct(peaks, 0.99), 1),
            "largest": [
                (r["document"], r["peak_mb"])
                for r in sorted(results, key=lambda r: -r["peak_mb"])[:5]
            ],
        },
    }


def markdown(summary: dict[str, Any], results: list[dict[str, Any]]) -> str:
    lines = [
        (
            f"- documents: {summary['documents']}; passed (generated, imported, every operation reached): "
            f"{summary['passed']} ({100 * summary['passed'] / max(1, summary['documents']):.2f}%)"
        ),
        f"- generated: {summary['generated']} ({summary['generated_strict']} strict, {summary['generated_lenient']} only with --lenient)",
        (
            f"- operations: {summary['operations']}; answered as declared {summary['operations_ok']}, "
            f"refused with a 4xx {summary['operations_rejected']}; reached another operation on a path the "
            f"document declares twice, which answered it as declared: {summary.get('operations_same_path', 0)} "
            f"(in {len(summary.get('documents_same_path', []))} documents: {', '.join(summary.get('documents_same_path', [])) or 'none'})"
        ),
        f"- generation time: total {summary['generate_seconds']['total']} s, median {summary['generate_seconds']['median']} s, "
        f"p99 {summary['generate_seconds']['p99']} s; slowest: "
        + ", ".join(f"{d} {s:.1f} s" for d, s in summary["generate_seconds"]["slowest"]),
        f"- peak memory per document process (the preloaded generator is {summary['peak_mb']['baseline']} MB of it): "
        f"median {summary['peak_mb']['median']} MB, p99 {summary['peak_mb']['p99']} MB; largest: "
        + ", ".join(f"{d} {m:.0f} MB" for d, m in summary["peak_mb"]["largest"]),
    ]
    if summary.get("strict_refusals"):
        lines.append("")
        lines.append(
            "| what the strict run refused (then generated with --lenient, or not) | documents |"
        )
        lines.append("| --- | --- |")
        for cls, count in summary["strict_refusals"].items():
            lines.append(f"| {cls.replace('|', chr(92) + '|')} | {count} |")
    if summary["failure_classes"]:
        lines.append("")
        lines.append("| failure class | documents | first document: first error |")
        lines.append("| --- | --- | --- |")
        for cls, count in summary["failure_classes"].items():
            first = next(r for r in results if r.get("failure") == cls)
            error = str(first.get("error") or "").replace("|", "\\|").replace("\n", " ")[:160]
            lines.append(f"| {cls} | {count} | {first['document']}: {error} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-n",
        "--sample",
        type=int,
        default=None,
        help="a seeded random sample of this many documents",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shard", help="i/k: every k-th document from the i-th (1-based)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="documents at once (default: one per core)",
    )
    parser.add_argument(
        "--timeout", type=float, default=DOCUMENT_SECONDS, help="seconds per document"
    )
    parser.add_argument(
        "--out", type=Path, help="results file (default: <cache>/results-<sample>-<seed>.json)"
    )
    parser.add_argument(
        "--only", action="append", help="these documents (relative to api/), repeatable"
    )
    parser.add_argument(
        "--schemathesis", action="store_true", help="run schemathesis against each mock instead"
    )
    parser.add_argument(
        "--summary", type=Path, help="print the Markdown summary of a results file and exit"
    )
    args = parser.parse_args(argv)
    if args.summary:
        data = json.loads(args.summary.read_text())
        print(markdown(data["summary"], data["results"]))
        return 0
    api = directory.api_dir()
    docs = args.only or select_documents(
        directory.documents(api), args.sample, args.seed, args.shard
    )
    out = (
        args.out
        or directory.cache_dir()
        / f"{'fuzz' if args.schemathesis else 'results'}-{args.sample or 'all'}-{args.seed}{'-' + args.shard.replace('/', 'of') if args.shard else ''}.json"
    )
    preload()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tty = sys.stderr.isatty()
    started = time.perf_counter()

    def progress(results: list[dict[str, Any]]) -> None:
        failed = sum(1 for r in results if r.get("failure"))
        line = f"corpus: {len(results)}/{len(docs)} documents, {failed} failing, {time.perf_counter() - started:.0f} s"
        if tty:
            sys.stderr.write(f"\r\033[K{line}")
            sys.stderr.flush()
        elif len(results) % 50 == 0 or len(results) == len(docs):
            print(line, file=sys.stderr, flush=True)

    results = run_all(
        api,
        docs,
        max(1, args.jobs),
        args.timeout,
        progress,
        fuzz_document if args.schemathesis else None,
    )
    if tty:
        sys.stderr.write("\n")
    results.sort(key=lambda r: r["document"])
    summary = summarize(results, baseline)
    summary["wall_seconds"] = round(time.perf_counter() - started, 1)
    summary["sample"] = {
        "n": args.sample,
        "seed": args.seed,
        "shard": args.shard,
        "package": f"{directory.PACKAGE}@{directory.VERSION}",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "results": results}, indent=1, default=str))
    print(markdown(summary, results))
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
